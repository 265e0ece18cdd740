/** The webhook outbox table: queue with the event, claim with a lease, settle. Touches `webhook_outbox` only. */
import { type Kysely } from "kysely";
import { type Database } from "../../db/database";

export interface ClaimedDelivery {
  /** The event's id: the `webhook-id` header, the same on every attempt. */
  readonly eventId: string;
  readonly body: string;
  /** Attempts before this one. */
  readonly attempts: number;
  readonly createdAt: number;
}

/** How many due deliveries one claim looks at, so a lost race moves on to the next. */
const CLAIM_CANDIDATES = 5;

/** Queues an event's delivery, due at once; pass the transaction that records the event. */
export async function insertDelivery(db: Kysely<Database>, eventId: string, body: string, now: number): Promise<void> {
  await db
    .insertInto("webhook_outbox")
    .values({
      event_id: eventId,
      body,
      status: "pending",
      created_at: now,
      next_attempt_at: now,
      lease_until: 0,
      lease_owner: null,
    })
    .execute();
}

/**
 * Claims one due, unleased delivery for `owner` until `now + leaseMs`: a conditional UPDATE that
 * exactly one claimant wins however many senders race (instances, workers), on SQLite and
 * PostgreSQL alike; a lost race moves to the next candidate.
 * @returns the delivery, or undefined when none is due.
 */
export async function claimNextDelivery(
  db: Kysely<Database>,
  owner: string,
  now: number,
  leaseMs: number,
): Promise<ClaimedDelivery | undefined> {
  const candidates = await db
    .selectFrom("webhook_outbox")
    .select("event_id")
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", now)
    .where("lease_until", "<=", now)
    .orderBy("next_attempt_at")
    .limit(CLAIM_CANDIDATES)
    .execute();
  for (const { event_id: eventId } of candidates) {
    const claimed = await db
      .updateTable("webhook_outbox")
      .set({ lease_until: now + leaseMs, lease_owner: owner })
      .where("event_id", "=", eventId)
      .where("status", "=", "pending")
      .where("lease_until", "<=", now)
      .executeTakeFirst();
    if (claimed.numUpdatedRows !== 1n) continue;
    const row = await db
      .selectFrom("webhook_outbox")
      .selectAll()
      .where("event_id", "=", eventId)
      .where("lease_owner", "=", owner)
      .executeTakeFirst();
    if (!row) continue;
    return { eventId, body: row.body, attempts: Number(row.attempts), createdAt: Number(row.created_at) };
  }
  return undefined;
}

/** Marks a claimed delivery done. */
export async function markDelivered(db: Kysely<Database>, eventId: string, owner: string, now: number): Promise<void> {
  await db
    .updateTable("webhook_outbox")
    .set((eb) => ({
      status: "delivered",
      attempts: eb("attempts", "+", 1),
      delivered_at: now,
      last_error: null,
      lease_until: 0,
      lease_owner: null,
    }))
    .where("event_id", "=", eventId)
    .where("lease_owner", "=", owner)
    .execute();
}

/** Records a failed attempt and makes the delivery due again at `retryAt`. */
export async function scheduleDeliveryRetry(
  db: Kysely<Database>,
  eventId: string,
  owner: string,
  retryAt: number,
  error: string,
): Promise<void> {
  await db
    .updateTable("webhook_outbox")
    .set((eb) => ({
      attempts: eb("attempts", "+", 1),
      next_attempt_at: retryAt,
      last_error: error.slice(0, 100),
      lease_until: 0,
      lease_owner: null,
    }))
    .where("event_id", "=", eventId)
    .where("lease_owner", "=", owner)
    .execute();
}

/** Gives up on a delivery: failed for good. */
export async function markDeliveryFailed(db: Kysely<Database>, eventId: string, owner: string, error: string): Promise<void> {
  await db
    .updateTable("webhook_outbox")
    .set((eb) => ({
      status: "failed",
      attempts: eb("attempts", "+", 1),
      last_error: error.slice(0, 100),
      lease_until: 0,
      lease_owner: null,
    }))
    .where("event_id", "=", eventId)
    .where("lease_owner", "=", owner)
    .execute();
}

/** Hands a claimed delivery back untried (shutdown): due at once for any sender. */
export async function releaseDelivery(db: Kysely<Database>, eventId: string, owner: string): Promise<void> {
  await db
    .updateTable("webhook_outbox")
    .set({ lease_until: 0, lease_owner: null })
    .where("event_id", "=", eventId)
    .where("lease_owner", "=", owner)
    .execute();
}

/**
 * Deletes at most `batch` settled deliveries (delivered or failed) created before `before`, so the
 * table stays as small as the retention keeps the events.
 */
export async function deleteSettledDeliveriesBefore(db: Kysely<Database>, before: number, batch: number): Promise<number> {
  const result = await db
    .deleteFrom("webhook_outbox")
    .where(
      "event_id",
      "in",
      db.selectFrom("webhook_outbox").select("event_id").where("status", "<>", "pending").where("created_at", "<", before).limit(batch),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
