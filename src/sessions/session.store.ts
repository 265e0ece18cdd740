/** The session store: every query on sessions and refresh_tokens. Refresh tokens are kept as SHA-256 digests only. */
import { type Kysely, type Selectable, type Transaction } from "kysely";
import { type Database, type SessionsTable } from "../db/database";
import { type Session } from "./session.entity";

export type SessionRow = Selectable<SessionsTable>;

/** A stored refresh token, joined with the state of its session. */
export interface RefreshTokenRecord {
  readonly id: string;
  readonly sessionId: string;
  readonly userId: string;
  readonly scopes: readonly string[];
  /** Epoch milliseconds it was issued (the login, or the rotation that made it). */
  readonly createdAt: number;
  /** Epoch milliseconds it was spent (rotated), or null while it is the session's current token. */
  readonly spentAt: number | null;
  /** The session's absolute end, epoch milliseconds. */
  readonly sessionExpiresAt: number;
  readonly sessionRevoked: boolean;
  /** The user was disabled since: the session's refresh tokens are dead, its access tokens judged. */
  readonly refreshEnded: boolean;
  readonly mfa: boolean;
}

export interface NewRefreshToken {
  readonly id: string;
  readonly tokenHash: string;
  readonly sessionId: string;
  readonly parentId: string | null;
  readonly userId: string;
  readonly scopes: readonly string[];
  readonly createdAt: number;
}

export interface NewSession {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly userAgent: string | null;
  readonly clientAddress: string | null;
  readonly mfa: boolean;
}

/** User-Agent characters kept (CONTRACT section 9). */
export const USER_AGENT_MAX = 512;
const CLIENT_ADDRESS_MAX = 64;

/**
 * Ends every live session of a user, and so every refresh token rotated within them. Exported for
 * the use cases that run it inside their own transaction (password change, logout everywhere).
 * @returns how many sessions were live.
 */
export async function revokeSessionsOfUser(db: Kysely<Database>, userId: string, nowMs: number): Promise<number> {
  const ended = await db
    .updateTable("sessions")
    .set({ revoked_at: nowMs })
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .returning("expires_at")
    .execute();
  // An expired session not yet pruned was already over: not counted as ended now.
  return ended.filter((row) => Number(row.expires_at) > nowMs).length;
}

/**
 * Ends refreshing in every session of a user (disabling it, CONTRACT section 9): no refresh token
 * of theirs works again, while their access tokens keep being judged (`Inactive user` while the
 * account is disabled; valid again if it is enabled before they expire). Exported like
 * revokeSessionsOfUser, for the use case's own transaction.
 * @returns how many sessions could still refresh.
 */
export async function endRefreshingOfUser(db: Kysely<Database>, userId: string, nowMs: number): Promise<number> {
  const result = await db
    .updateTable("sessions")
    .set({ refresh_ended_at: nowMs })
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .where("refresh_ended_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The only place a row becomes a Session; `current` is the caller's to say. */
export function toSession(row: SessionRow, currentId: string | undefined): Session {
  return {
    id: row.id,
    createdAt: new Date(Number(row.created_at)),
    lastUsedAt: new Date(Number(row.last_used_at)),
    expiresAt: new Date(Number(row.expires_at)),
    userAgent: row.user_agent,
    clientAddress: row.client_address,
    current: row.id === currentId,
    mfa: Boolean(row.mfa),
  };
}

export class SessionStore {
  /** `db` may be a Transaction: a store made inside `transaction` runs its queries there. */
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Runs `work` in one database transaction, with a store bound to it and the transaction itself,
   * for a use case that writes an event (or another store's rows) with the session's change.
   */
  transaction<T>(work: (store: SessionStore, trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(new SessionStore(trx), trx));
  }

  /** Starts a session with its first refresh token, together (in the caller's transaction, if any). */
  async start(session: NewSession, token: NewRefreshToken): Promise<void> {
    const insert = async (trx: Kysely<Database>) => {
      await trx
        .insertInto("sessions")
        .values({
          id: session.id,
          user_id: session.userId,
          created_at: session.createdAt,
          last_used_at: session.createdAt,
          expires_at: session.expiresAt,
          user_agent: session.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
          client_address: session.clientAddress?.slice(0, CLIENT_ADDRESS_MAX) ?? null,
          mfa: session.mfa ? 1 : 0,
        })
        .execute();
      await trx.insertInto("refresh_tokens").values(toRow(token)).execute();
    };
    await (this.db.isTransaction ? insert(this.db) : this.db.transaction().execute(insert));
  }

  /** Finds a refresh token by its digest (a unique index: one probe whatever was presented), with its session. */
  async findToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const row = await this.db
      .selectFrom("refresh_tokens as t")
      .innerJoin("sessions as s", "s.id", "t.session_id")
      .select(["t.id", "t.session_id", "t.user_id", "t.scopes", "t.created_at", "t.spent_at"])
      .select(["s.expires_at", "s.revoked_at", "s.refresh_ended_at", "s.mfa"])
      .where("t.token_hash", "=", tokenHash)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      sessionId: row.session_id,
      userId: row.user_id,
      scopes: row.scopes.split(" ").filter(Boolean),
      createdAt: Number(row.created_at),
      spentAt: row.spent_at === null ? null : Number(row.spent_at),
      sessionExpiresAt: Number(row.expires_at),
      sessionRevoked: row.revoked_at !== null,
      refreshEnded: row.refresh_ended_at !== null,
      mfa: Boolean(row.mfa),
    };
  }

  /**
   * Spends `parentId`, stores its successor and moves the session's lastUsedAt, in one
   * transaction. The spend is a conditional UPDATE (`spent_at IS NULL`): of two concurrent
   * rotations of one token the database lets exactly one change the row (PostgreSQL makes the
   * second wait for the first to commit, SQLite has one writer), and the other sees no row changed.
   * @returns false when the parent was already spent (nothing is written).
   */
  async rotate(parentId: string, child: NewRefreshToken, nowMs: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const spent = await trx
        .updateTable("refresh_tokens")
        .set({ spent_at: nowMs })
        .where("id", "=", parentId)
        .where("spent_at", "is", null)
        .executeTakeFirst();
      if (Number(spent.numUpdatedRows) !== 1) return false;
      await trx.insertInto("refresh_tokens").values(toRow(child)).execute();
      await trx.updateTable("sessions").set({ last_used_at: nowMs }).where("id", "=", child.sessionId).execute();
      return true;
    });
  }

  /** Moves lastUsedAt (a refresh answered within the reuse interval). */
  async touch(sessionId: string, nowMs: number): Promise<void> {
    await this.db.updateTable("sessions").set({ last_used_at: nowMs }).where("id", "=", sessionId).execute();
  }

  /**
   * Ends a session if it is live; with `userId`, only if it is that user's.
   * @returns whether this call ended it.
   */
  async revoke(sessionId: string, nowMs: number, userId?: string): Promise<boolean> {
    let update = this.db
      .updateTable("sessions")
      .set({ revoked_at: nowMs })
      .where("id", "=", sessionId)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", nowMs);
    if (userId !== undefined) update = update.where("user_id", "=", userId);
    const result = await update.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Ends every live session of `userId` but `keepId`. @returns the ids of those ended. */
  async revokeOthers(userId: string, keepId: string | undefined, nowMs: number): Promise<string[]> {
    let update = this.db
      .updateTable("sessions")
      .set({ revoked_at: nowMs })
      .where("user_id", "=", userId)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", nowMs);
    if (keepId !== undefined) update = update.where("id", "!=", keepId);
    const ended = await update.returning("id").execute();
    return ended.map((row) => row.id);
  }

  /** The user's live sessions, newest first. */
  async listLive(userId: string, nowMs: number): Promise<SessionRow[]> {
    return this.db
      .selectFrom("sessions")
      .selectAll()
      .where("user_id", "=", userId)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", nowMs)
      .orderBy("created_at", "desc")
      .orderBy("id")
      .execute();
  }

  /**
   * Deletes up to `limit` sessions whose absolute expiry has passed, with their refresh tokens.
   * Bounded, so it can run on the request path (at login) and needs no scheduled job.
   * @returns how many sessions were deleted.
   */
  async pruneExpired(nowMs: number, limit: number): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const expired = await trx.selectFrom("sessions").select("id").where("expires_at", "<=", nowMs).limit(limit).execute();
      if (expired.length === 0) return 0;
      const ids = expired.map((row) => row.id);
      await trx.deleteFrom("refresh_tokens").where("session_id", "in", ids).execute();
      const result = await trx.deleteFrom("sessions").where("id", "in", ids).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }
}

function toRow(token: NewRefreshToken) {
  return {
    id: token.id,
    token_hash: token.tokenHash,
    session_id: token.sessionId,
    parent_id: token.parentId,
    user_id: token.userId,
    scopes: token.scopes.join(" "),
    created_at: token.createdAt,
  };
}
