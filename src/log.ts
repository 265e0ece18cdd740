/** The pino logger: allow-listed request fields, and redaction of every secret wherever it appears. */
import pino, { type DestinationStream, type Logger } from "pino";
import { redactObject, redactText } from "./log-redact";

export type { Logger };

interface LoggedRequest {
  method?: string;
  url?: string;
  id?: unknown;
  ip?: string;
}

/** Only these request fields are logged; the query string is dropped because it may carry secrets. */
function serializeRequest(req: LoggedRequest): Record<string, unknown> {
  const query = typeof req.url === "string" ? req.url.indexOf("?") : -1;
  const url = query < 0 ? req.url : req.url!.slice(0, query);
  return { id: req.id, method: req.method, url, remoteAddress: req.ip };
}

function serializeResponse(res: { statusCode?: number }): Record<string, unknown> {
  return { statusCode: res.statusCode };
}

/** Keys whose allow-listing serializers above already decide what is written. */
const SERIALIZED_KEYS: ReadonlySet<string> = new Set(["req", "res"]);

/** The size up to which Linux writes to a pipe whole (PIPE_BUF). */
const PIPE_BUF = 4096;

/**
 * The server's stdout, asynchronous as pino's default (sonic-boom: lines that arrive while a write
 * is in flight go out together in the next; pino flushes synchronously on exit), but never more
 * than PIPE_BUF bytes of whole lines a write. Cluster workers share one stdout, and once it is a
 * non-blocking pipe a longer write is cut short when the pipe is full, so another worker's lines
 * landed inside a line; a write of at most PIPE_BUF bytes goes whole or not at all.
 */
export function asyncStdout(): DestinationStream {
  return pino.destination({ dest: 1, sync: false, maxWrite: PIPE_BUF });
}

export interface LoggerOptions {
  readonly level: string;
  /** Tests pass a stream that keeps every line. */
  readonly destination?: DestinationStream;
  /** Values to cut out of any line verbatim (the configured SECRET_KEY). */
  readonly secrets?: readonly (string | undefined)[];
}

/**
 * Builds the process logger. Every call passes through a hook that withholds secret-bearing keys
 * (passwords, hashes, tokens, authorization, cookies, GraphQL variables) at any depth, and cuts
 * bearer credentials, JWTs and password hashes out of every string, the message included. This is
 * the second line of defence: the first is never handing such values to the logger.
 */
export function createLogger(options: LoggerOptions): Logger {
  const literals = (options.secrets ?? []).filter((s): s is string => typeof s === "string" && s.length > 0);
  return pino(
    {
      level: options.level,
      // The hook below has already turned errors into clean plain objects; pino's own serializer
      // would take those for errors again and rename their type "Object".
      serializers: {
        req: serializeRequest,
        res: serializeResponse,
        err: (e: unknown) => (e instanceof Error ? pino.stdSerializers.err(e) : e),
      },
      base: { pid: process.pid },
      hooks: {
        logMethod(args, method) {
          const cleaned: unknown[] = args.map((arg) =>
            typeof arg === "string"
              ? redactText(arg, literals)
              : arg instanceof Error
                ? { err: redactObject(arg, literals) }
                : redactObject(arg, literals, SERIALIZED_KEYS),
          );
          // pino takes an error's message as the line's message when none is given.
          if (args[0] instanceof Error && cleaned.length === 1) cleaned.push(redactText(args[0].message, literals));
          return method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
    },
    options.destination,
  );
}
