/** The one mapping from thrown errors to `{ message, extensions.code }` and WWW-Authenticate. */
import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { isDatabaseUnavailable } from "../db/faults";
import { AppError, HashingUnavailable, InsufficientScope, InvalidToken, ServiceUnavailable } from "../errors";

export const INTERNAL_ERROR_MESSAGE = "Internal server error";

/** Codes Apollo itself gives to request problems (parse, validation, variables): passed through. */
const APOLLO_REQUEST_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
]);

/**
 * The error a resolver or plugin threw, with a database outage recognised: a driver error that
 * says the database cannot answer becomes ServiceUnavailable (its detail kept as `cause`).
 * Resolver errors arrive wrapped with a path; a plugin's arrive wrapped without one.
 */
export function originalError(error: unknown): unknown {
  let original = unwrapResolverError(error);
  if (original instanceof GraphQLError && original.originalError instanceof AppError) original = original.originalError;
  if (original instanceof AppError) return original;
  // graphql-js wraps a thrown value that is no Error of its realm (as Node's own socket errors
  // are under jest) in a NonErrorThrown that keeps it as `thrownValue`.
  const thrown = (original as { thrownValue?: unknown } | null)?.thrownValue ?? original;
  if (isDatabaseUnavailable(original) || isDatabaseUnavailable(thrown)) return new ServiceUnavailable(thrown);
  return original;
}

/** Whether an error is one the client caused or the contract names, rather than a fault of ours. */
export function isExpectedError(error: unknown): boolean {
  const original = originalError(error);
  if (original instanceof ServiceUnavailable) return false;
  if (original instanceof AppError) return true;
  if (!(original instanceof GraphQLError)) return false;
  const code = original.extensions.code;
  // Apollo's request errors wrap graphql-js's own parse, validation and coercion errors (always
  // GraphQLErrors); one wrapped around any other error came from code of ours, not from the client.
  const inner = original.originalError;
  return typeof code === "string" && APOLLO_REQUEST_CODES.has(code) && (inner == null || inner instanceof GraphQLError);
}

/**
 * Apollo's formatError. An AppError keeps its code and message (a database that cannot answer is
 * one: `INTERNAL_SERVER_ERROR` "Service unavailable"); Apollo's request errors pass; any other
 * error becomes `Internal server error`, because Apollo would otherwise send its raw message.
 * With `exposeUnexpected` (development) the original message stays, to help while building.
 */
export function createFormatError(options: { exposeUnexpected: boolean }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = originalError(error);
    if (original instanceof AppError) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: original.code, ...original.publicExtensions() },
      };
    }
    if (isExpectedError(error) || options.exposeUnexpected) return formatted;
    return {
      message: INTERNAL_ERROR_MESSAGE,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    };
  };
}

/**
 * The WWW-Authenticate value a response with these errors carries (RFC 6750 section 3), or undefined.
 * An authentication failure outranks a missing scope.
 */
export function wwwAuthenticateFor(errors: readonly unknown[]): string | undefined {
  const originals = errors.map((e) => originalError(e));
  if (originals.some((e) => e instanceof InvalidToken)) return 'Bearer error="invalid_token"';
  if (originals.some((e) => e instanceof AppError && e.code === "UNAUTHENTICATED")) return "Bearer";
  const scoped = originals.find((e): e is InsufficientScope => e instanceof InsufficientScope);
  if (scoped) return `Bearer error="insufficient_scope", scope="${scoped.requiredScopes.join(" ")}"`;
  return undefined;
}

/**
 * The HTTP status and headers a response with these errors needs beyond Apollo's own, or undefined.
 * A login the password service could not take (queue full, shutting down) is answered 503 with
 * `Retry-After` (CONTRACT section 15), and `Connection: close` while the server stops.
 */
export function httpAnswerFor(errors: readonly unknown[]): { status: number; headers: Record<string, string> } | undefined {
  const unavailable = errors.map((e) => originalError(e)).filter((e): e is HashingUnavailable => e instanceof HashingUnavailable);
  if (unavailable.length === 0) return undefined;
  const retryAfter = Math.max(...unavailable.map((e) => e.retryAfter));
  const headers: Record<string, string> = { "retry-after": String(retryAfter) };
  if (unavailable.some((e) => e.closeConnection)) headers.connection = "close";
  return { status: 503, headers };
}
