/** The refresh-token store: every query on refresh_tokens. Rows hold a SHA-256 digest, never a token. */
import { type Kysely } from "kysely";
import { type Database } from "../db/database";

/** A stored refresh token, joined with the state of its family. */
export interface RefreshTokenRecord {
  readonly id: string;
  readonly familyId: string;
  readonly userId: string;
  readonly scopes: readonly string[];
  /** Epoch milliseconds. */
  readonly familyExpiresAt: number;
  readonly spent: boolean;
  readonly revoked: boolean;
  /** The family's first token is revoked: the whole family is dead, whatever this row says. */
  readonly familyRevoked: boolean;
}

export interface NewRefreshToken {
  readonly id: string;
  readonly tokenHash: string;
  readonly familyId: string;
  readonly parentId: string | null;
  readonly userId: string;
  readonly scopes: readonly string[];
  readonly createdAt: number;
  readonly familyExpiresAt: number;
}

/**
 * Revokes every refresh token of a user. Exported for UserStore, which runs it inside the same
 * transaction as the user change that calls for it (disable, password change).
 * @returns how many tokens were live.
 */
export async function revokeRefreshTokensOfUser(db: Kysely<Database>, userId: string, nowMs: number): Promise<number> {
  const result = await db
    .updateTable("refresh_tokens")
    .set({ revoked_at: nowMs })
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export class RefreshTokenStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(token: NewRefreshToken): Promise<void> {
    await this.db.insertInto("refresh_tokens").values(toRow(token)).execute();
  }

  /**
   * Finds a token by its digest (a unique index: one probe whatever was presented), with the state
   * of its family's first token. A family is revoked by revoking that first token, so a token
   * inserted by a rotation racing with the revocation is dead all the same.
   */
  async findByHash(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const row = await this.db
      .selectFrom("refresh_tokens as t")
      .innerJoin("refresh_tokens as root", "root.id", "t.family_id")
      .select([
        "t.id",
        "t.family_id",
        "t.user_id",
        "t.scopes",
        "t.family_expires_at",
        "t.spent_at",
        "t.revoked_at",
        "root.revoked_at as family_revoked_at",
      ])
      .where("t.token_hash", "=", tokenHash)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      familyId: row.family_id,
      userId: row.user_id,
      scopes: row.scopes.split(" ").filter(Boolean),
      familyExpiresAt: Number(row.family_expires_at),
      spent: row.spent_at !== null,
      revoked: row.revoked_at !== null,
      familyRevoked: row.family_revoked_at !== null,
    };
  }

  /**
   * Spends `parentId` and stores its successor, in one transaction. The spend is a conditional
   * UPDATE (`spent_at IS NULL`): of two concurrent rotations of one token the database lets
   * exactly one change the row, and the other sees no row changed.
   * @returns false when the parent was already spent or revoked (nothing is written).
   */
  async rotate(parentId: string, child: NewRefreshToken, nowMs: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const spent = await trx
        .updateTable("refresh_tokens")
        .set({ spent_at: nowMs })
        .where("id", "=", parentId)
        .where("spent_at", "is", null)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      if (Number(spent.numUpdatedRows) !== 1) return false;
      await trx.insertInto("refresh_tokens").values(toRow(child)).execute();
      return true;
    });
  }

  /**
   * Revokes one token if it is still live (unspent, unrevoked), with the same conditional UPDATE
   * as a rotation, so a logout and a refresh of one token cannot both win.
   * @returns whether this call revoked it.
   */
  async revokeIfLive(id: string, nowMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable("refresh_tokens")
      .set({ revoked_at: nowMs })
      .where("id", "=", id)
      .where("spent_at", "is", null)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Revokes every token of a family, its first token included (which is what kills the family). */
  async revokeFamily(familyId: string, nowMs: number): Promise<number> {
    const result = await this.db
      .updateTable("refresh_tokens")
      .set({ revoked_at: nowMs })
      .where("family_id", "=", familyId)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Deletes up to `limit` rows of families whose absolute expiry has passed. Bounded, so it can run
   * on the request path (at login) and the table never needs a scheduled job.
   * @returns how many rows were deleted.
   */
  async pruneExpired(nowMs: number, limit: number): Promise<number> {
    const result = await this.db
      .deleteFrom("refresh_tokens")
      .where("id", "in", (eb) =>
        eb.selectFrom("refresh_tokens").select("id").where("family_expires_at", "<=", nowMs).limit(limit),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function toRow(token: NewRefreshToken) {
  return {
    id: token.id,
    token_hash: token.tokenHash,
    family_id: token.familyId,
    parent_id: token.parentId,
    user_id: token.userId,
    scopes: token.scopes.join(" "),
    created_at: token.createdAt,
    family_expires_at: token.familyExpiresAt,
  };
}
