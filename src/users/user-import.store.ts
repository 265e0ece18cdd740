/** Bulk writes for `users import`: one transaction per batch, existing usernames found in one query. */
import { randomUUID } from "node:crypto";
import { type Kysely } from "kysely";
import { systemClock, type Clock } from "../clock";
import { type Database } from "../db/database";

/** A validated import line. Optional fields left undefined are absent from the line. */
export interface ImportedUser {
  /** The form stored and displayed (checkNewUsername's result). */
  readonly username: string;
  /** usernameKey(username): what "the same username" means. */
  readonly usernameKey: string;
  /** skeletonKey(username): what "a username that looks the same" means (UTS #39). */
  readonly skeletonKey: string;
  /** null: the old system marked the account as having no usable password (see password-formats/unusable.ts). */
  readonly passwordHash: string | null;
  readonly email?: string | null;
  readonly fullName?: string | null;
  readonly scopes?: readonly string[];
  readonly disabled?: boolean;
  /** Absent: true for a new account, unchanged for an existing one. */
  readonly emailVerified?: boolean;
}

export interface BatchOutcome {
  readonly created: number;
  readonly updated: number;
  /** Existing usernames left alone: without `update`, or with nothing to change. */
  readonly skipped: number;
  /** Of the users written (created or updated), those left with no usable password. */
  readonly withoutPassword: number;
  /** New usernames refused, not written, because they look like an existing account's (the same skeleton). */
  readonly lookAlikes: readonly ImportedUser[];
}

export interface BatchOptions {
  /** Give existing usernames the fields their line states, instead of skipping them. */
  readonly update: boolean;
  /** Whether a stored hash must survive an update (one this server wrote is newer than any export). */
  readonly keepsPasswordHash: (stored: string) => boolean;
}

export class UserImportStore {
  constructor(
    private readonly db: Kysely<Database>,
    /** The scopes of a new user whose line names none. */
    private readonly defaultScopes: readonly string[],
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Writes one batch in one transaction: new usernames are inserted; existing ones (compared
   * case-insensitively) are skipped, or with `update` given the fields their line states, except a
   * password hash that `keepsPasswordHash`. A new username that looks like an existing account's
   * (the same skeleton_key) is not written and comes back in `lookAlikes`.
   * A username inserted by someone else meanwhile is skipped rather than failing the batch.
   */
  async importBatch(users: readonly ImportedUser[], options: BatchOptions): Promise<BatchOutcome> {
    const { update, keepsPasswordHash } = options;
    if (users.length === 0) return { created: 0, updated: 0, skipped: 0, withoutPassword: 0, lookAlikes: [] };
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom("users")
        .select(["username_key", "skeleton_key", "email", "full_name", "password_hash", "disabled", "scopes", "email_verified"])
        .where((eb) =>
          eb.or([
            eb(
              "username_key",
              "in",
              users.map((u) => u.usernameKey),
            ),
            eb(
              "skeleton_key",
              "in",
              users.map((u) => u.skeletonKey),
            ),
          ]),
        )
        .execute();
      const byKey = new Map(existing.map((row) => [row.username_key, row]));
      const skeletons = new Set(existing.map((row) => row.skeleton_key));
      const now = new Date(this.clock.now()).toISOString();

      const lookAlikes = users.filter((u) => !byKey.has(u.usernameKey) && skeletons.has(u.skeletonKey));
      const fresh = users.filter((u) => !byKey.has(u.usernameKey) && !skeletons.has(u.skeletonKey));
      let created = 0;
      let withoutPassword = 0;
      if (fresh.length > 0) {
        const inserted = await trx
          .insertInto("users")
          .values(
            fresh.map((u) => ({
              id: randomUUID(),
              username: u.username,
              username_key: u.usernameKey,
              skeleton_key: u.skeletonKey,
              email: u.email ?? null,
              full_name: u.fullName ?? null,
              password_hash: u.passwordHash,
              disabled: u.disabled ? 1 : 0,
              scopes: (u.scopes ?? this.defaultScopes).join(" "),
              email_verified: u.emailVerified === false ? 0 : 1,
              created_at: now,
              updated_at: now,
            })),
          )
          // Either unique key: a username or a look-alike inserted by someone else meanwhile.
          .onConflict((oc) => oc.doNothing())
          .returning("username_key")
          .execute();
        created = inserted.length;
        const insertedKeys = new Set(inserted.map((r) => r.username_key));
        withoutPassword += fresh.filter((u) => u.passwordHash === null && insertedKeys.has(u.usernameKey)).length;
      }

      let updated = 0;
      if (update) {
        for (const user of users) {
          const row = byKey.get(user.usernameKey);
          if (!row) continue;
          const changes = {
            ...(row.password_hash !== user.passwordHash &&
              !(row.password_hash && keepsPasswordHash(row.password_hash)) && { password_hash: user.passwordHash }),
            ...(user.email !== undefined && row.email !== user.email && { email: user.email }),
            ...(user.fullName !== undefined && row.full_name !== user.fullName && { full_name: user.fullName }),
            ...(user.scopes !== undefined && row.scopes !== user.scopes.join(" ") && { scopes: user.scopes.join(" ") }),
            ...(user.disabled !== undefined && Boolean(row.disabled) !== user.disabled && { disabled: user.disabled ? 1 : 0 }),
            ...(user.emailVerified !== undefined &&
              Boolean(row.email_verified) !== user.emailVerified && { email_verified: user.emailVerified ? 1 : 0 }),
          };
          if (Object.keys(changes).length === 0) continue;
          await trx
            .updateTable("users")
            .set({ ...changes, updated_at: now })
            .where("username_key", "=", user.usernameKey)
            .execute();
          updated += 1;
          if (("password_hash" in changes ? user.passwordHash : row.password_hash) === null) withoutPassword += 1;
        }
      }
      return { created, updated, skipped: users.length - lookAlikes.length - created - updated, withoutPassword, lookAlikes };
    });
  }
}
