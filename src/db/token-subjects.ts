/** The per-request lookup behind every bearer token: user, token version and session, in one query. */
import type SqliteDatabase from "better-sqlite3";
import { sql, type CompiledQuery, type Kysely } from "kysely";
import type { Database } from "./database";
import { LookupBatch } from "./lookup-batch";
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

/** The columns of a TokenSubjectRow, for the single query and the batched one alike. */
const SUBJECT_COLUMNS = [
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
] as const;

/**
 * The one query: users by primary key, left-joined to sessions by primary key (and owner), so a
 * token without `sid` (null matches no row) is answered by the same statement.
 */
function subjectQuery(db: Kysely<Database>, sessionId: string | null, userId: string) {
  return db
    .selectFrom("users")
    .leftJoin("sessions", (join) => join.on("sessions.id", "=", sessionId).onRef("sessions.user_id", "=", "users.id"))
    .select(SUBJECT_COLUMNS)
    .where("users.id", "=", userId);
}

/** One requested lookup of a batch: the row `ordinal` (1-based) of the arrays given to unnest. */
interface RequestedSubject {
  readonly user_id: string;
  readonly session_id: string | null;
  readonly ordinal: string;
}

/**
 * The same query for many lookups at once (PostgreSQL only): the pairs (userIds[i], sessionIds[i])
 * as rows of `unnest`, numbered, each joined as the single query joins its two parameters. The
 * ids are varchar(36), compared as text through their primary-key indexes. A null session id
 * matches no session; an unknown user gives no row for its ordinal; a pair asked twice gets a row
 * for each ordinal.
 */
function subjectsQuery(db: Kysely<Database>, userIds: readonly string[], sessionIds: readonly (string | null)[]) {
  const requested = sql<RequestedSubject>`unnest(${userIds}::text[], ${sessionIds}::text[]) with ordinality`;
  return db
    .selectFrom(requested.as<"req">(sql`req(user_id, session_id, ordinal)`))
    .innerJoin("users", "users.id", "req.user_id")
    .leftJoin("sessions", (join) => join.onRef("sessions.id", "=", "req.session_id").onRef("sessions.user_id", "=", "users.id"))
    .select([...SUBJECT_COLUMNS, sql<number>`req.ordinal::int`.as("ordinal")]);
}

const SAMPLE = ["(session)", "(user)"] as const;

/** Through Kysely, compiled once: `sqlite::memory:`, stores inside a transaction, and a lookup alone on PostgreSQL. */
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

/** The most lookups one batched query carries; a turn with more is split into several queries. */
const MAX_LOOKUPS_PER_QUERY = 256;

interface SubjectKey {
  readonly userId: string;
  readonly sessionId: string | null;
}

/**
 * On PostgreSQL's pool: the lookups asked for in one turn of the event loop go to the database as
 * one query (subjectsQuery, at most MAX_LOOKUPS_PER_QUERY each; see LookupBatch), a lookup alone
 * as the single query. One round trip and one pooled connection serve a whole turn instead of one
 * each. Never used inside a transaction: a store made in one reads with KyselyTokenSubjectReader,
 * on the transaction's connection, where its own writes are visible.
 */
export class PostgresTokenSubjectReader implements TokenSubjectReader {
  private readonly batch: LookupBatch<SubjectKey, TokenSubjectRow | undefined>;

  constructor(db: Kysely<Database>) {
    const single = new KyselyTokenSubjectReader(db);
    const select = preparedQuery(
      db,
      (userIds: readonly string[], sessionIds: readonly (string | null)[]) => subjectsQuery(db, userIds, sessionIds),
      [["(user)"], ["(session)"]],
    );
    this.batch = new LookupBatch({
      one: (key) => single.read(key.userId, key.sessionId),
      many: async (keys) => {
        const rows = await select(
          keys.map((key) => key.userId),
          keys.map((key) => key.sessionId),
        );
        const answers: (TokenSubjectRow | undefined)[] = keys.map(() => undefined);
        for (const { ordinal, ...row } of rows) answers[ordinal - 1] = row;
        return answers;
      },
      maxKeys: MAX_LOOKUPS_PER_QUERY,
    });
  }

  /** @throws ServiceUnavailable when PostgreSQL fails (every lookup of that query fails with it). */
  read(userId: string, sessionId: string | null): Promise<TokenSubjectRow | undefined> {
    return this.batch.load({ userId, sessionId });
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
