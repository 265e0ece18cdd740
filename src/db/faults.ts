/** Recognises driver errors that mean "the database cannot answer now", not a bug of ours (for db/outages.ts). */

/**
 * SQLSTATE codes (PostgreSQL appendix A) that say the server or the connection is gone or
 * refusing work for the moment: class 08 (connection exception), 57P01-57P03 (administrator,
 * crash or start-up shutdown: what `pg_terminate_backend` and a restart send), 53300 (too many
 * connections).
 */
const UNAVAILABLE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);

/** Socket-level failures: nothing listens, the peer went away, the name or route is missing. */
const UNAVAILABLE_SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * better-sqlite3 codes for a database that exists but cannot serve this statement now: another
 * process holds the write lock past busy_timeout, or the file cannot be read or written.
 */
const UNAVAILABLE_SQLITE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL)(_|$)/;

/**
 * pg and Kysely report these without a code: the socket closed under a client, a connect that
 * timed out, a pool or driver already shut down (requests still in flight during SIGTERM), and
 * better-sqlite3 after `close()`.
 */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/,
  /^Client has encountered a connection error and is not queryable/,
  /^timeout exceeded when trying to connect/,
  /^Cannot use a pool after calling end on the pool/,
  /^driver has already been destroyed/,
  /^The database connection is not open/,
];

/**
 * Whether `error` (or an error it wraps, through `cause` or an AggregateError's `errors`) says
 * the database is unreachable or refusing work, rather than that a query is wrong.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 5 || error === null || typeof error !== "object") return false;
  const { code, message, cause, errors } = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === "string") {
    if (code.startsWith("08") && code.length === 5) return true;
    if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_SOCKET_CODES.has(code) || UNAVAILABLE_SQLITE_CODES.test(code)) return true;
  }
  if (typeof message === "string" && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
  if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}
