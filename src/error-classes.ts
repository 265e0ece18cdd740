/**
 * The one rule from a thrown error to what every door (GraphQL, /token, Fastify's error handler,
 * the health probes, database start-up) answers and logs: the HTTP status, the log level, the
 * public summary and Retry-After. The doors differ only in the shape they write it in.
 */
import { AppError, HashingUnavailable, MfaRequired, RateLimited, ServiceUnavailable } from "./errors";

/**
 * 5xx that are our fault log at `error` with the error itself; a database outage at `warn`, one
 * short line (it fails every request alike); a request refused at the HTTP edge at `info`; a
 * domain answer (wrong password, missing scope, hash queue full) not at all: the answer and the
 * request line say it.
 */
export type LogLevel = "silent" | "info" | "warn" | "error";

/** What a client may be told; never a stack, SQL or a driver's text. */
export interface PublicError {
  readonly code: string;
  readonly message: string;
}

export interface ErrorClass {
  /**
   * The status of an HTTP answer (/token, Fastify's errors). GraphQL answers domain errors with
   * 200 and takes only a `SERVICE_UNAVAILABLE` 503 (with its Retry-After) from here.
   */
  readonly status: number;
  readonly logLevel: LogLevel;
  readonly publicError: PublicError;
  /** AppError's public extensions beside `code` (retryAfter), for GraphQL. */
  readonly extensions: Readonly<Record<string, unknown>>;
  /** Whole seconds, for a Retry-After header. */
  readonly retryAfter?: number;
  /** The answer should end its connection: the process is stopping. */
  readonly closeConnection: boolean;
  /** What a log line carries under `err`: the error itself at `error`, else logSummary(error). */
  readonly err: unknown;
}

export const INTERNAL_ERROR: PublicError = { code: "INTERNAL_SERVER_ERROR", message: "Internal server error" };

/** A fault of ours: 500, logged at `error`, answered `Internal server error`. */
export function unexpected(error: unknown): ErrorClass {
  return {
    status: 500,
    logLevel: "error",
    publicError: INTERNAL_ERROR,
    extensions: {},
    closeConnection: false,
    err: error,
  };
}

export function classify(error: unknown): ErrorClass {
  if (error instanceof AppError) {
    const publicError = { code: error.code, message: error.message };
    const base = { publicError, extensions: error.publicExtensions(), closeConnection: false, err: logSummary(error) };
    if (error instanceof ServiceUnavailable) return { ...base, status: 503, logLevel: "warn" };
    if (error instanceof HashingUnavailable) {
      return {
        ...base,
        status: 503,
        logLevel: "silent",
        retryAfter: error.retryAfter,
        closeConnection: error.closeConnection,
      };
    }
    if (error instanceof RateLimited) return { ...base, status: 429, logLevel: "silent", retryAfter: error.retryAfter };
    // /token answers the password step of a two-factor login 403 mfa_required (CONTRACT section 11).
    if (error instanceof MfaRequired) return { ...base, status: 403, logLevel: "silent" };
    return { ...base, status: 400, logLevel: "silent" };
  }
  // Fastify's own refusals (malformed JSON, wrong content type, body too large) and HttpRefusal:
  // a 4xx with a fixed message that echoes nothing the client sent.
  const { statusCode, code, message } = (error ?? {}) as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) {
    const publicError = {
      code: typeof code === "string" ? code : "bad_request",
      message: typeof message === "string" ? message : "Bad request",
    };
    return {
      status: statusCode,
      logLevel: "info",
      publicError,
      extensions: {},
      closeConnection: false,
      err: logSummary(error),
    };
  }
  return unexpected(error);
}

/**
 * A short line's worth of an error, without its stack: `code` and `message`, those of the driver's
 * error for a database outage (kept as ServiceUnavailable's `cause`).
 */
export function logSummary(error: unknown): { code?: unknown; message: string } {
  const inner = error instanceof ServiceUnavailable && error.cause !== undefined ? error.cause : error;
  if (typeof inner !== "object" || inner === null) return { message: String(inner) };
  const { code, message } = inner as { code?: unknown; message?: unknown };
  return { code, message: String(message) };
}
