/** The one mapping from thrown errors to `{ message, extensions.code }` and WWW-Authenticate. */
import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { classify, unexpected, type ErrorClass } from "../error-classes";
import { AppError, InsufficientScope, InvalidToken } from "../errors";

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
 * The error a resolver or plugin threw. Resolver errors arrive wrapped with a path; a plugin's
 * arrive wrapped without one. (A database outage is already ServiceUnavailable: db/outages.ts.)
 */
export function originalError(error: unknown): unknown {
  const original = unwrapResolverError(error);
  if (original instanceof GraphQLError && original.originalError instanceof AppError) return original.originalError;
  return original;
}

/** Apollo's request errors (parse, validation, variables): the client's, passed through as Apollo wrote them. */
function isRequestError(original: unknown): original is GraphQLError {
  if (!(original instanceof GraphQLError)) return false;
  const code = original.extensions.code;
  // Apollo's request errors wrap graphql-js's own parse, validation and coercion errors (always
  // GraphQLErrors); one wrapped around any other error came from code of ours, not from the client.
  const inner = original.originalError;
  return typeof code === "string" && APOLLO_REQUEST_CODES.has(code) && (inner == null || inner instanceof GraphQLError);
}

/**
 * classify for the GraphQL door: an AppError as everywhere, an Apollo request error as the
 * client's (400, not logged), and anything else a fault of ours, whatever status it claims.
 */
export function classifyGraphQLError(error: unknown): ErrorClass & { readonly passThrough: boolean } {
  const original = originalError(error);
  if (original instanceof AppError) return { ...classify(original), passThrough: false };
  if (isRequestError(original)) {
    const publicError = { code: String(original.extensions.code), message: original.message };
    const silent = { logLevel: "silent", extensions: {}, closeConnection: false, err: undefined } as const;
    return { ...silent, status: 400, publicError, passThrough: true };
  }
  return { ...unexpected(error), passThrough: false };
}

/** Whether an error is one the client caused or the contract names, rather than a fault of ours. */
export function isExpectedError(error: unknown): boolean {
  return classifyGraphQLError(error).logLevel === "silent";
}

/**
 * Apollo's formatError. An AppError keeps its code and message (a database that cannot answer is
 * one: `INTERNAL_SERVER_ERROR` "Service unavailable"); Apollo's request errors pass; any other
 * error becomes `Internal server error`, because Apollo would otherwise send its raw message.
 * With `exposeUnexpected` (development) the original message stays, to help while building.
 */
export function createFormatError(options: { exposeUnexpected: boolean }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const { passThrough, status, publicError, extensions } = classifyGraphQLError(error);
    if (passThrough || (options.exposeUnexpected && status === 500)) return formatted;
    const { locations, path } = formatted;
    return { message: publicError.message, locations, path, extensions: { code: publicError.code, ...extensions } };
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
  const classes = errors.map((e) => classifyGraphQLError(e));
  const unavailable = classes.filter((c) => c.publicError.code === "SERVICE_UNAVAILABLE");
  if (unavailable.length === 0) return undefined;
  const retryAfter = Math.max(...unavailable.map((c) => c.retryAfter ?? 1));
  const headers: Record<string, string> = { "retry-after": String(retryAfter) };
  if (unavailable.some((c) => c.closeConnection)) headers.connection = "close";
  return { status: Math.max(...unavailable.map((c) => c.status)), headers };
}
