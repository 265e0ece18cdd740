/** The mail outbox table: queue, claim with a lease, settle. Touches `mail_outbox` only. */
import { randomUUID } from "node:crypto";
import { type Kysely } from "kysely";
import { type Database } from "../db/database";

/** A message as a use case hands it over. */
export interface OutgoingMail {
  /** One address, `someone@example.com`: the envelope's only recipient. */
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
}

/** A claimed message: what the sender needs to deliver it. */
export interface ClaimedMail {
  readonly id: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string | undefined;
  /** Delivery attempts before this one. */
  readonly attempts: number;
  readonly createdAt: number;
}

/** How many due messages one claim looks at, so a lost race moves on to the next. */
const CLAIM_CANDIDATES = 5;

// Control characters in a header value are how a header (or a recipient) gets injected.
const CONTROL = /\p{Cc}/u;

/**
 * Inserts a pending message, due at once. Pass the caller's transaction, so the message is
 * committed together with what caused it (and never if that rolls back).
 * @returns the message's id.
 * @throws Error for a recipient or subject a use case should never pass (empty, a line break,
 *   more than one address): a programming error, not a user's.
 */
export async function insertMail(db: Kysely<Database>, mail: OutgoingMail, now: number): Promise<string> {
  if (!/^[^\s@,;<>"]+@[^\s@,;<>"]+$/.test(mail.to) || mail.to.length > 320) throw new Error("enqueueMail: `to` must be one plain address");
  if (mail.subject === "" || CONTROL.test(mail.subject)) throw new Error("enqueueMail: `subject` must be one non-empty line");
  const id = randomUUID();
  await db
    .insertInto("mail_outbox")
    .values({
      id,
      recipient: mail.to,
      subject: mail.subject,
      text_body: mail.text,
      html_body: mail.html ?? null,
      status: "pending",
      created_at: now,
      next_attempt_at: now,
      lease_until: 0,
      lease_owner: null,
    })
    .execute();
  return id;
}

/**
 * Claims one due, unleased message for `owner` until `now + leaseMs`: a conditional UPDATE that
 * succeeds for exactly one claimant, whatever the number of senders (instances, workers) racing
 * for it, on SQLite and PostgreSQL alike. A claim lost to another sender moves to the next
 * candidate.
 * @returns the message, or undefined when none is due.
 */
export async function claimNextMail(db: Kysely<Database>, owner: string, now: number, leaseMs: number): Promise<ClaimedMail | undefined> {
  const candidates = await db
    .selectFrom("mail_outbox")
    .select("id")
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", now)
    .where("lease_until", "<=", now)
    .orderBy("next_attempt_at")
    .limit(CLAIM_CANDIDATES)
    .execute();
  for (const { id } of candidates) {
    const claimed = await db
      .updateTable("mail_outbox")
      .set({ lease_until: now + leaseMs, lease_owner: owner })
      .where("id", "=", id)
      .where("status", "=", "pending")
      .where("lease_until", "<=", now)
      .executeTakeFirst();
    if (claimed.numUpdatedRows !== 1n) continue;
    const row = await db.selectFrom("mail_outbox").selectAll().where("id", "=", id).where("lease_owner", "=", owner).executeTakeFirst();
    if (!row || row.text_body === null) continue;
    return {
      id: row.id,
      to: row.recipient,
      subject: row.subject,
      text: row.text_body,
      html: row.html_body ?? undefined,
      attempts: Number(row.attempts),
      createdAt: Number(row.created_at),
    };
  }
  return undefined;
}

/** Marks a claimed message delivered and deletes its body (it holds links with tokens); metadata stays. */
export async function markMailSent(
  db: Kysely<Database>,
  id: string,
  owner: string,
  now: number,
  messageId: string | undefined,
): Promise<void> {
  await db
    .updateTable("mail_outbox")
    .set((eb) => ({
      status: "sent",
      text_body: null,
      html_body: null,
      attempts: eb("attempts", "+", 1),
      sent_at: now,
      message_id: messageId?.slice(0, 255) ?? null,
      last_error: null,
      lease_until: 0,
      lease_owner: null,
    }))
    .where("id", "=", id)
    .where("lease_owner", "=", owner)
    .execute();
}

/** Records a failed attempt and makes the message due again at `retryAt`. */
export async function scheduleMailRetry(db: Kysely<Database>, id: string, owner: string, retryAt: number, error: string): Promise<void> {
  await db
    .updateTable("mail_outbox")
    .set((eb) => ({
      attempts: eb("attempts", "+", 1),
      next_attempt_at: retryAt,
      last_error: error.slice(0, 100),
      lease_until: 0,
      lease_owner: null,
    }))
    .where("id", "=", id)
    .where("lease_owner", "=", owner)
    .execute();
}

/** Gives up on a message: failed for good, its body deleted like a delivered one's. */
export async function markMailFailed(db: Kysely<Database>, id: string, owner: string, error: string): Promise<void> {
  await db
    .updateTable("mail_outbox")
    .set((eb) => ({
      status: "failed",
      text_body: null,
      html_body: null,
      attempts: eb("attempts", "+", 1),
      last_error: error.slice(0, 100),
      lease_until: 0,
      lease_owner: null,
    }))
    .where("id", "=", id)
    .where("lease_owner", "=", owner)
    .execute();
}

/** Hands a claimed message back untried (shutdown): due at once for any sender, no attempt counted. */
export async function releaseMail(db: Kysely<Database>, id: string, owner: string): Promise<void> {
  await db
    .updateTable("mail_outbox")
    .set({ lease_until: 0, lease_owner: null })
    .where("id", "=", id)
    .where("lease_owner", "=", owner)
    .execute();
}
