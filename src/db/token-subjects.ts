/** The per-request lookup behind every bearer token: user, token version and session, in one query. */
import type SqliteDatabase from "better-sqlite3";
import { type CompiledQuery, type Kysely } from "kysely";
import type { Database } from "./database";
import { asOutage } from "./outages";
import { preparedQuery } from "./prepared-query";
import { SqliteReadBatch } from "./read-batch";

/** What one lookup returns: the user's public columns, its token version, and the session's state. */
export interface TokenSubjectRow {
  readonly id: string;
  readonly username: string;
  readonly email: string | null;
  readonly full_name: string | null;
  readonly disabled: number | boolean;
  readonly scopes: string;
  readonly email_verified: number | boolean;
  readonly token_version: number | string;
  /** The session's id when it exists and belongs to this user, else null. */
  readonly session_id: string | null;
  readonly session_expires_at: number | string | null;
  readonly session_revoked_at: number | string | null;
}

/**
 * Reads the subject of a token: the user `userId` and, when `sessionId` is given, that session if
 * it is the user's. Every call sees what was committed before it was made; nothing is cached.
 */
export interface TokenSubjectReader {
  read(userId: string, sessionId: string | null): Promise<TokenSubjectRow | undefined>;
}

/**
 * The one query: users by primary key, left-joined to sessions by primary key (and owner), so a
 * token without `sid` (null matches no row) is answered by the same statement.
 */
function subjectQuery(db: Kysely<Database>, sessionId: string | null, userId: string) {
  return db
    .selectFrom("users")
    .leftJoin("sessions", (join) => join.on("sessions.id", "=", sessionId).onRef("sessions.user_id", "=", "users.id"))
    .select([
      "users.id",
      "users.username",
      "users.email",
      "users.full_name",
      "users.disabled",
      "users.scopes",
      "users.email_verified",
      "users.token_version",
      "sessions.id as session_id",
      "sessions.expires_at as session_expires_at",
      "sessions.revoked_at as session_revoked_at",
    ])
    .where("users.id", "=", userId);
}

const SAMPLE = ["(session)", "(user)"] as const;

/** Through Kysely, compiled once: PostgreSQL, `sqlite::memory:`, and stores inside a transaction. */
export class KyselyTokenSubjectReader implements TokenSubjectReader {
  private readonly select;

  constructor(db: Kysely<Database>) {
    this.select = preparedQuery(db, (sessionId: string | null, userId: string) => subjectQuery(db, sessionId, userId), [...SAMPLE] as [
      string | null,
      string,
    ]);
  }

  async read(userId: string, sessionId: string | null): Promise<TokenSubjectRow | undefined> {
    const [row] = await this.select(sessionId, userId);
    return row as TokenSubjectRow | undefined;
  }
}

/**
 * On a read-only better-sqlite3 connection to the SQLite file: the statement is prepared at the
 * first call (the tables may not exist before start-up migrates) and run directly, with no Kysely
 * driver and no wait behind a transaction on the writing connection. Lookups asked for in one
 * turn of the event loop run together in one read transaction (SqliteReadBatch), which this
 * reader owns: nothing is shared between readers.
 */
export class SqliteTokenSubjectReader implements TokenSubjectReader {
  private readonly compiled: CompiledQuery;
  private readonly batch: SqliteReadBatch;
  private statement: SqliteDatabase.Statement | undefined;

  constructor(
    db: Kysely<Database>,
    private readonly connection: SqliteDatabase.Database,
  ) {
    this.compiled = subjectQuery(db, SAMPLE[0], SAMPLE[1]).compile();
    const order = this.compiled.parameters;
    if (order.length !== 2 || order[0] !== SAMPLE[0] || order[1] !== SAMPLE[1])
      throw new Error("token subject query: unexpected parameters");
    this.batch = new SqliteReadBatch(connection);
  }

  /** @throws ServiceUnavailable when SQLite fails (this connection runs beside Kysely's, so it translates as db/outages.ts does). */
  async read(userId: string, sessionId: string | null): Promise<TokenSubjectRow | undefined> {
    try {
      return await this.batch.run(() => {
        this.statement ??= this.connection.prepare(this.compiled.sql);
        return this.statement.get(sessionId, userId) as TokenSubjectRow | undefined;
      });
    } catch (error) {
      throw asOutage(error);
    }
  }
}
