/** The database: table types and createDb(url), which picks SQLite or PostgreSQL from the URL. */
import SqliteDatabase from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql, type ColumnType, type Generated, type LogConfig } from "kysely";
import { Pool } from "pg";
import { type Logger } from "../log";
import { logSummary } from "../error-classes";
import { withOutageTranslation } from "./outages";
import { createPrivateDatabaseFile, warnAboutOpenModes } from "./private-files";
import { withStatementCache } from "./statement-cache";
import { KyselyTokenSubjectReader, PostgresTokenSubjectReader, SqliteTokenSubjectReader, type TokenSubjectReader } from "./token-subjects";

export interface UsersTable {
  id: string;
  username: string;
  /** NFKC-normalised, lower-cased username: the unique key logins are matched on. */
  username_key: string;
  /**
   * skeletonKey(username): the unique look-alike key (UTS #39 skeleton), so no second account can
   * look like this one. Null only for an account that already looked like an older one when the
   * column was added (see its migration).
   */
  skeleton_key: string | null;
  email: string | null;
  full_name: string | null;
  password_hash: string | null;
  /** 0/1 on SQLite, boolean on PostgreSQL; written as 0/1, which both accept. */
  disabled: number | boolean;
  /** Space-separated scopes the account may be granted. */
  scopes: string;
  created_at: string;
  updated_at: string;
  /**
   * Epoch milliseconds of the last "revoke every access token" (0: never); access tokens carry
   * the value they were issued under (see auth/token-version.ts).
   */
  token_version: EpochMillis;
  /** 0/1 on SQLite, boolean on PostgreSQL: whether the address in `email` was proven by a link. */
  email_verified: ColumnType<number | boolean, number | undefined, number>;
}

/** A bigint of epoch milliseconds: PostgreSQL returns bigint as a string, SQLite as a number. */
export type EpochMillis = ColumnType<number | string, number | undefined, number>;

export interface RefreshTokensTable {
  id: string;
  /** Hex SHA-256 of the token; the token itself is never stored. */
  token_hash: string;
  /** The session (one login) this token was rotated within. */
  session_id: string;
  parent_id: string | null;
  user_id: string;
  /** Space-separated scopes granted at login; fixed for the whole session. */
  scopes: string;
  created_at: EpochMillis;
  spent_at: ColumnType<number | string | null, number | null | undefined, number | null>;
}

/** One login: what a password (and a second factor) started, with every refresh token rotated from it. */
export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: EpochMillis;
  /** The last login or refresh; never written per request. */
  last_used_at: EpochMillis;
  /** Absolute end of the session: set at login, never extended. */
  expires_at: EpochMillis;
  revoked_at: ColumnType<number | string | null, number | null | undefined, number | null>;
  /** Set when the user was disabled: no refresh any more, but the access tokens are still judged. */
  refresh_ended_at: ColumnType<number | string | null, number | null | undefined, number | null>;
  user_agent: string | null;
  client_address: string | null;
  /** 0/1: started with a second factor. */
  mfa: Generated<number>;
}

/** One failed-login counter: a username's or a client address's, for one window. */
export interface LoginAttemptsTable {
  key: string;
  attempts: number;
  /** Milliseconds since the epoch; PostgreSQL's bigint arrives as a string. */
  reset_at: number | string;
  /** Attempts among `attempts` still being verified; dropped once `pending_until` has passed. */
  pending: Generated<number>;
  pending_until: Generated<number | string>;
}

/** One message of the mail outbox (src/mail/outbox.store.ts); the body is null once it is settled. */
export interface MailOutboxTable {
  id: string;
  recipient: string;
  subject: string;
  text_body: string | null;
  html_body: string | null;
  status: "pending" | "sent" | "failed";
  attempts: Generated<number>;
  created_at: EpochMillis;
  next_attempt_at: EpochMillis;
  lease_until: ColumnType<number | string, number | undefined, number>;
  lease_owner: string | null;
  sent_at: ColumnType<number | string | null, number | null | undefined, number | null>;
  message_id: string | null;
  last_error: string | null;
}

/** A nullable bigint of epoch milliseconds (or a step count), as EpochMillis. */
type NullableBigint = ColumnType<number | string | null, number | null | undefined, number | null>;

/** One user's TOTP enrolment (src/mfa/mfa.store.ts); on once confirmed_at is set. */
export interface MfaTotpTable {
  user_id: string;
  /** The secret encrypted with AES-256-GCM (src/mfa/secret-box.ts); never the secret itself. */
  secret_box: string;
  created_at: EpochMillis;
  confirmed_at: NullableBigint;
  /** The last accepted TOTP step (Unix time / 30 s), so a code is accepted once. */
  last_used_step: NullableBigint;
}

/** One recovery code, as the SHA-256 digest of its normalised form. */
export interface MfaRecoveryCodesTable {
  id: string;
  user_id: string;
  code_hash: string;
  created_at: EpochMillis;
  used_at: NullableBigint;
}

/** The password step of a two-factor login: the mfaToken's digest, 5 minutes, single use. */
export interface MfaChallengesTable {
  token_hash: string;
  user_id: string;
  /** Space-separated scopes granted at the password step. */
  scopes: string;
  token_version: EpochMillis;
  created_at: EpochMillis;
  expires_at: EpochMillis;
  used_at: NullableBigint;
}

/** One audit event (CONTRACT section 12): who, what, when, from where. Never a secret. */
export interface AuthEventsTable {
  id: string;
  type: string;
  at: EpochMillis;
  user_id: string | null;
  session_id: string | null;
  client_address: string | null;
  user_agent: string | null;
}

/** One webhook delivery of an audit event, claimed with a lease like mail_outbox. */
export interface WebhookOutboxTable {
  event_id: string;
  body: string;
  status: "pending" | "delivered" | "failed";
  attempts: Generated<number>;
  created_at: EpochMillis;
  next_attempt_at: EpochMillis;
  lease_until: ColumnType<number | string, number | undefined, number>;
  lease_owner: string | null;
  delivered_at: ColumnType<number | string | null, number | null | undefined, number | null>;
  last_error: string | null;
}

/** One single-use account token (src/accounts/account-token.store.ts): only its digest is kept. */
export interface AccountTokensTable {
  id: string;
  token_hash: string;
  user_id: string;
  purpose: "verify_email" | "reset_password";
  /** Hex SHA-256 of the address (verification) or of the password hash (reset) it was issued for. */
  binding: string;
  created_at: EpochMillis;
  expires_at: EpochMillis;
  used_at: ColumnType<number | string | null, number | null | undefined, number | null>;
}

export interface Database {
  users: UsersTable;
  login_attempts: LoginAttemptsTable;
  refresh_tokens: RefreshTokensTable;
  sessions: SessionsTable;
  mail_outbox: MailOutboxTable;
  mfa_totp: MfaTotpTable;
  mfa_recovery_codes: MfaRecoveryCodesTable;
  mfa_challenges: MfaChallengesTable;
  auth_events: AuthEventsTable;
  webhook_outbox: WebhookOutboxTable;
  account_tokens: AccountTokensTable;
}

export type Dialect = "sqlite" | "postgres";

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /**
   * The lookup every authenticated request makes (user, token version, session), in one query.
   * On a SQLite file it runs on a second, read-only connection (committed data only, never in the
   * queue of Kysely's single connection); on PostgreSQL the lookups of one event-loop turn go as
   * one query; on `sqlite::memory:` through Kysely, one by one (see token-subjects.ts).
   */
  readonly tokenSubjects: TokenSubjectReader;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DbOptions {
  /** Told, one line each, about PostgreSQL connections that fail (a restart, a cut, `pg_terminate_backend`). */
  readonly logger?: Logger;
  /**
   * Kysely's query log, told of every statement run through `db`. Its events carry the parameters,
   * which can be secrets (token digests, password hashes): count or time them, never log them as is.
   */
  readonly log?: LogConfig;
}

/**
 * Opens the database that a `DATABASE_URL` names (`sqlite:<path>`, `sqlite::memory:`, `postgres://…`).
 * Nothing connects yet on PostgreSQL: the pool connects on first use, so a database that is down
 * makes queries fail with ServiceUnavailable (see withOutageTranslation) instead of this call, and
 * the pool reconnects by itself when it returns. A connection lost in the middle of a query fails that query, never the
 * process (see openPool).
 */
export function createDb(url: string, options: DbOptions = {}): DatabaseHandle {
  const sqlitePath = /^sqlite:(.+)$/.exec(url)?.[1];
  const sqlite = sqlitePath !== undefined ? openSqlite(sqlitePath, options.logger) : undefined;
  const { dialect, closeDriver } = withOutageTranslation(
    sqlite ? new SqliteDialect({ database: withStatementCache(sqlite) }) : new PostgresDialect({ pool: openPool(url, options.logger) }),
  );
  const db = new Kysely<Database>({ dialect, ...(options.log ? { log: options.log } : {}) });
  const sqliteReader = sqlitePath !== undefined && sqlitePath !== ":memory:" ? openSqliteReader(sqlitePath) : undefined;
  return {
    db,
    dialect: sqlitePath !== undefined ? "sqlite" : "postgres",
    tokenSubjects: tokenSubjectReader(db, sqlitePath, sqliteReader),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: async () => {
      // Below Kysely, so that a query still in flight fails as an outage (see withOutageTranslation).
      await closeDriver();
      // Kysely's SQLite driver closes only a file it has used: one opened but never queried stays open otherwise.
      sqlite?.close();
      sqliteReader?.close();
    },
  };
}

function tokenSubjectReader(
  db: Kysely<Database>,
  sqlitePath: string | undefined,
  sqliteReader: SqliteDatabase.Database | undefined,
): TokenSubjectReader {
  if (sqliteReader) return new SqliteTokenSubjectReader(db, sqliteReader);
  return sqlitePath === undefined ? new PostgresTokenSubjectReader(db) : new KyselyTokenSubjectReader(db);
}

function openPool(url: string, logger: Logger | undefined): Pool {
  const pool = new Pool({
    connectionString: url,
    max: 10,
    // Without a bound, a connect to a host that drops packets waits forever and so would the request.
    connectionTimeoutMillis: 5_000,
    // TCP keep-alive notices a peer that vanished without closing the socket.
    keepAlive: true,
  });
  // A pg client whose connection breaks (a restart, a failover, pg_terminate_backend, a cut line)
  // emits 'error', and an 'error' with no listener is an uncaught exception that kills the
  // process. pg-pool listens only while the client is idle in the pool; a client checked out by
  // Kysely, for one query or a whole transaction, has no listener of its own. So every client gets
  // one for its whole life: the pool emits 'connect' once per client, in the same tick as it
  // connected and before anyone can use it. Nothing else needs doing here: pg has already failed
  // the query in flight (and fails any later one) with an error withOutageTranslation turns into
  // ServiceUnavailable, and marked the client unqueryable, which makes pg-pool end it on release.
  pool.on("connect", (client) => {
    let reported = false;
    client.on("error", (error: Error) => {
      // A cut socket can emit twice (ECONNRESET, then "Connection terminated unexpectedly"):
      // one line per broken connection. Only code and message: never the URL, which holds the password.
      if (reported) return;
      reported = true;
      const line = "a database connection failed; it is dropped and the next query opens a fresh one";
      logger?.warn({ err: logSummary(error) }, line);
    });
  });
  // pg-pool re-emits an idle client's 'error' on the pool once it has dropped the client, and would
  // throw it with no listener there. The client's own listener above has logged it already.
  pool.on("error", () => undefined);
  return pool;
}

/** Warns `logger` about a file or data folder that other local users can open (see private-files.ts). */
function openSqlite(path: string, logger: Logger | undefined): SqliteDatabase.Database {
  if (path !== ":memory:") {
    warnAboutOpenModes(path, logger);
    // Made here, 0600 in a 0700 folder, before SQLite would make it under the umask (0644).
    createPrivateDatabaseFile(path);
  }
  const database = new SqliteDatabase(path);
  // WAL lets readers run beside the one writer; busy_timeout makes a second process (the CLI)
  // wait for a lock instead of failing at once.
  database.pragma("journal_mode = WAL");
  database.pragma("busy_timeout = 5000");
  database.pragma("synchronous = NORMAL");
  database.pragma("foreign_keys = ON");
  return database;
}

/** Opened after the writer, which has made the file and put it in WAL mode. */
function openSqliteReader(path: string): SqliteDatabase.Database {
  const reader = new SqliteDatabase(path, { readonly: true });
  reader.pragma("busy_timeout = 5000");
  return reader;
}
