/** The database: table types and createDb(url), which picks SQLite or PostgreSQL from the URL. */
import SqliteDatabase from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql, type ColumnType, type Generated } from "kysely";
import { Pool } from "pg";
import { type Logger } from "../log";
import { logSummary } from "../error-classes";
import { withOutageTranslation } from "./outages";
import { createPrivateDatabaseFile, warnAboutOpenModes } from "./private-files";
import { withStatementCache } from "./statement-cache";

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
  /** The id of the first token of the login (the family) this one descends from. */
  family_id: string;
  parent_id: string | null;
  user_id: string;
  /** Space-separated scopes of the login; fixed for the whole family. */
  scopes: string;
  created_at: EpochMillis;
  /** Absolute end of the login's life: set at login, copied unchanged by every rotation. */
  family_expires_at: EpochMillis;
  spent_at: ColumnType<number | string | null, number | null | undefined, number | null>;
  revoked_at: ColumnType<number | string | null, number | null | undefined, number | null>;
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
  mail_outbox: MailOutboxTable;
  account_tokens: AccountTokensTable;
}

export type Dialect = "sqlite" | "postgres";

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /**
   * A SQLite file only: a second, read-only connection for the lookup every authenticated request
   * makes (see preparedQuery). It reads committed data only, and does not wait in the queue of
   * Kysely's single connection. Undefined on PostgreSQL and for `sqlite::memory:`.
   */
  readonly sqliteReader?: SqliteDatabase.Database;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DbOptions {
  /** Told, one line each, about PostgreSQL connections that fail (a restart, a cut, `pg_terminate_backend`). */
  readonly logger?: Logger;
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
    sqlite
      ? new SqliteDialect({ database: withStatementCache(sqlite) })
      : new PostgresDialect({ pool: openPool(url, options.logger) }),
  );
  const db = new Kysely<Database>({ dialect });
  const sqliteReader = sqlitePath !== undefined && sqlitePath !== ":memory:" ? openSqliteReader(sqlitePath) : undefined;
  return {
    db,
    dialect: sqlitePath !== undefined ? "sqlite" : "postgres",
    sqliteReader,
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

