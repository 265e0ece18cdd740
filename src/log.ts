/** The pino logger: allow-listed request fields and redaction of every secret-bearing key. */
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

/**
 * Keys that may carry a password, hash, token or key wherever they appear in a log object.
 * Redaction is the second line of defence: the first is never passing such values to the logger.
 */
const REDACTED_PATHS = [
  "password",
  "currentPassword",
  "newPassword",
  "passwordHash",
  "password_hash",
  "token",
  "accessToken",
  "refreshToken",
  "refresh_token",
  "access_token",
  "secretKey",
  "authorization",
  "cookie",
  "*.password",
  "*.currentPassword",
  "*.newPassword",
  "*.passwordHash",
  "*.password_hash",
  "*.token",
  "*.accessToken",
  "*.refreshToken",
  "*.refresh_token",
  "*.access_token",
  "*.secretKey",
  "*.authorization",
  "*.cookie",
  "req.headers",
  "variables",
  "*.variables",
];

interface LoggedRequest {
  method?: string;
  url?: string;
  id?: unknown;
  ip?: string;
}

/** Only these request fields are logged; the query string is dropped because it may carry secrets. */
function serializeRequest(req: LoggedRequest): Record<string, unknown> {
  const url = typeof req.url === "string" ? req.url.split("?", 1)[0] : undefined;
  return { id: req.id, method: req.method, url, remoteAddress: req.ip };
}

function serializeResponse(res: { statusCode?: number }): Record<string, unknown> {
  return { statusCode: res.statusCode };
}

/** Builds the process logger. `destination` lets tests capture every line. */
export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      serializers: { req: serializeRequest, res: serializeResponse, err: pino.stdSerializers.err },
      base: { pid: process.pid },
    },
    options.destination,
  );
}
