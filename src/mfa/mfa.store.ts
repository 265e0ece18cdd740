/** The two-factor store: every query on mfa_totp, mfa_recovery_codes and mfa_challenges. */
import { randomUUID } from "node:crypto";
import { type Kysely, type Transaction } from "kysely";
import { type Database } from "../db/database";

/** A user's TOTP enrolment, its secret still sealed. */
export interface TotpEnrolment {
  readonly userId: string;
  readonly secretBox: string;
  readonly confirmed: boolean;
  readonly lastUsedStep: number | null;
}

/** The password step of a two-factor login, as stored. */
export interface MfaChallenge {
  readonly userId: string;
  readonly scopes: readonly string[];
  readonly tokenVersion: number;
  readonly expiresAt: number;
  readonly used: boolean;
}

export interface NewMfaChallenge {
  readonly tokenHash: string;
  readonly userId: string;
  readonly scopes: readonly string[];
  readonly tokenVersion: number;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** Expired challenges deleted per login at most, so the table stays small without a scheduled job. */
const PRUNE_BATCH = 100;

export class MfaStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Runs `work` in one transaction, with a store over it. */
  transaction<T>(work: (store: MfaStore, trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(new MfaStore(trx), trx));
  }

  async findTotp(userId: string): Promise<TotpEnrolment | undefined> {
    const row = await this.db.selectFrom("mfa_totp").selectAll().where("user_id", "=", userId).executeTakeFirst();
    if (!row) return undefined;
    return {
      userId: row.user_id,
      secretBox: row.secret_box,
      confirmed: row.confirmed_at !== null,
      lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step),
    };
  }

  /** Whether the user has two-factor authentication on (a confirmed enrolment). */
  async isEnabled(userId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom("mfa_totp")
      .select("user_id")
      .where("user_id", "=", userId)
      .where("confirmed_at", "is not", null)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Stores a new unconfirmed enrolment, replacing an unconfirmed one; a confirmed one is kept.
   * @returns false when the user's enrolment is already confirmed (nothing is written).
   */
  async putPendingTotp(userId: string, secretBox: string, nowMs: number): Promise<boolean> {
    await this.db.deleteFrom("mfa_totp").where("user_id", "=", userId).where("confirmed_at", "is", null).execute();
    const inserted = await this.db
      .insertInto("mfa_totp")
      .values({ user_id: userId, secret_box: secretBox, created_at: nowMs, confirmed_at: null, last_used_step: null })
      .onConflict((conflict) => conflict.column("user_id").doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /**
   * Turns a pending enrolment on, remembering the step of the code that confirmed it.
   * @returns false when there was no pending enrolment (none, or confirmed meanwhile).
   */
  async confirmTotp(userId: string, step: number, nowMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable("mfa_totp")
      .set({ confirmed_at: nowMs, last_used_step: step })
      .where("user_id", "=", userId)
      .where("confirmed_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Accepts the code of `step` once: a conditional UPDATE that moves last_used_step forward only,
   * so of two requests with one code (or an older one) the database lets exactly one through.
   * @returns whether this call accepted it.
   */
  async useTotpStep(userId: string, step: number): Promise<boolean> {
    const result = await this.db
      .updateTable("mfa_totp")
      .set({ last_used_step: step })
      .where("user_id", "=", userId)
      .where("confirmed_at", "is not", null)
      .where((eb) => eb.or([eb("last_used_step", "is", null), eb("last_used_step", "<", step)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Replaces every recovery code of the user with these digests (the old ones die). */
  async replaceRecoveryCodes(userId: string, digests: readonly string[], nowMs: number): Promise<void> {
    await this.db.deleteFrom("mfa_recovery_codes").where("user_id", "=", userId).execute();
    await this.db
      .insertInto("mfa_recovery_codes")
      .values(
        digests.map((digest) => ({
          id: randomUUID(),
          user_id: userId,
          code_hash: digest,
          created_at: nowMs,
          used_at: null,
        })),
      )
      .execute();
  }

  /**
   * Spends an unused recovery code, conditionally, so a code is good exactly once.
   * @returns whether this call spent it.
   */
  async useRecoveryCode(userId: string, digest: string, nowMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable("mfa_recovery_codes")
      .set({ used_at: nowMs })
      .where("user_id", "=", userId)
      .where("code_hash", "=", digest)
      .where("used_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) >= 1;
  }

  /**
   * Turns two-factor authentication off: the enrolment, the recovery codes and pending challenges go.
   * @returns whether it was on (a confirmed enrolment existed).
   */
  async removeAll(userId: string): Promise<boolean> {
    const removed = await this.db.deleteFrom("mfa_totp").where("user_id", "=", userId).returning("confirmed_at").execute();
    await this.db.deleteFrom("mfa_recovery_codes").where("user_id", "=", userId).execute();
    await this.db.deleteFrom("mfa_challenges").where("user_id", "=", userId).execute();
    return removed.some((row) => row.confirmed_at !== null);
  }

  async createChallenge(challenge: NewMfaChallenge): Promise<void> {
    await this.db
      .insertInto("mfa_challenges")
      .values({
        token_hash: challenge.tokenHash,
        user_id: challenge.userId,
        scopes: challenge.scopes.join(" "),
        token_version: challenge.tokenVersion,
        created_at: challenge.createdAt,
        expires_at: challenge.expiresAt,
        used_at: null,
      })
      .execute();
  }

  async findChallenge(tokenHash: string): Promise<MfaChallenge | undefined> {
    const row = await this.db.selectFrom("mfa_challenges").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
    if (!row) return undefined;
    return {
      userId: row.user_id,
      scopes: row.scopes.split(" ").filter(Boolean),
      tokenVersion: Number(row.token_version),
      expiresAt: Number(row.expires_at),
      used: row.used_at !== null,
    };
  }

  /**
   * Spends a live challenge, conditionally: of two verifications with one mfaToken, one wins.
   * @returns whether this call spent it.
   */
  async spendChallenge(tokenHash: string, nowMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable("mfa_challenges")
      .set({ used_at: nowMs })
      .where("token_hash", "=", tokenHash)
      .where("used_at", "is", null)
      .where("expires_at", ">", nowMs)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Deletes a bounded batch of expired challenges. */
  async pruneChallenges(nowMs: number): Promise<void> {
    const expired = await this.db
      .selectFrom("mfa_challenges")
      .select("token_hash")
      .where("expires_at", "<=", nowMs)
      .limit(PRUNE_BATCH)
      .execute();
    if (expired.length === 0) return;
    await this.db
      .deleteFrom("mfa_challenges")
      .where(
        "token_hash",
        "in",
        expired.map((row) => row.token_hash),
      )
      .execute();
  }
}
