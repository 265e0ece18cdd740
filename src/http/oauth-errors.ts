/** The OAuth answers of /token, /revoke and /introspect: the one mapping from our errors to RFC 6749 section 5.2 bodies. */
import { type FastifyReply, type FastifyRequest } from "fastify";
import { classify } from "../error-classes";
import {
  EmailNotVerified,
  InactiveUser,
  InvalidCredentials,
  InvalidMfaCode,
  InvalidMfaToken,
  InvalidRefreshToken,
  MfaRequired,
  InvalidScope,
  RateLimited,
  ScopeNotGranted,
  UnknownScope,
} from "../errors";

export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_grant"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "mfa_required"
  | "rate_limited"
  | "server_error"
  | "temporarily_unavailable"
  // The introspection caller's bearer token (RFC 6749 section 5.2, RFC 6750 section 3.1).
  | "invalid_client"
  | "invalid_token"
  | "insufficient_scope";

/** A request an OAuth endpoint cannot even hand to a use case (shape, grant type, missing parameter). */
export class OAuthRequestError extends Error {
  /** A client's mistake: classify logs it at info, without a stack, like Fastify's own 4xx. */
  readonly statusCode = 400;

  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
  }
}

export interface OAuthAnswer {
  readonly status: number;
  /** `mfa_token` only with `mfa_required` (the password step of a two-factor login). */
  readonly body: { error: OAuthErrorCode; error_description: string; mfa_token?: string };
  readonly headers?: Record<string, string>;
}

/**
 * The one mapping from our errors to OAuth error answers (RFC 6749 section 5.2): status,
 * Retry-After and the description come from classify; this names the OAuth code. Returns
 * undefined for an error that is not the client's (it then becomes a 500 without detail).
 */
export function oauthErrorFor(error: unknown): OAuthAnswer | undefined {
  if (error instanceof OAuthRequestError) return { status: 400, body: { error: error.error, error_description: error.description } };
  const { status, publicError, retryAfter, closeConnection } = classify(error);
  if (status === 500) return undefined;
  const body = {
    error: oauthCodeFor(error, status),
    error_description: oauthDescriptionFor(error, publicError.message),
    ...(error instanceof MfaRequired && { mfa_token: error.mfaToken }),
  };
  if (retryAfter === undefined) return { status, body };
  const headers = { "retry-after": String(retryAfter), ...(closeConnection && { connection: "close" }) };
  return { status, body, headers };
}

function oauthCodeFor(error: unknown, status: number): OAuthErrorCode {
  // The database cannot answer, the hash queue is full, or the server is stopping: not the
  // client's fault, and worth retrying. OAuth names temporarily_unavailable for its authorization
  // endpoint (RFC 6749 section 4.1.2.1); the token endpoint borrows it, with HTTP's own 503.
  if (status === 503) return "temporarily_unavailable";
  if (error instanceof RateLimited) return "rate_limited";
  if (error instanceof MfaRequired) return "mfa_required";
  if (error instanceof InvalidMfaCode || error instanceof InvalidMfaToken) return "invalid_grant";
  // RFC 6749 section 5.2: the resource owner's credentials cannot be used as a grant (now).
  if (error instanceof InvalidCredentials || error instanceof InactiveUser) return "invalid_grant";
  if (error instanceof EmailNotVerified) return "invalid_grant";
  if (error instanceof InvalidRefreshToken) return "invalid_grant";
  const scope = error instanceof InvalidScope || error instanceof UnknownScope || error instanceof ScopeNotGranted;
  if (scope) return "invalid_scope";
  return "invalid_request";
}

/**
 * Fixed texts for scopes: GraphQL names a scope the account lacks, but an OAuth description is
 * read by client software and logs, so none carries the client's scope text (RFC 6749 section 5.2).
 */
function oauthDescriptionFor(error: unknown, message: string): string {
  if (error instanceof InvalidScope) return "Invalid scope";
  if (error instanceof UnknownScope) return "Scope not available to this account";
  if (error instanceof ScopeNotGranted) return "Scope not granted to this refresh token";
  return message;
}

/**
 * Answers an error a handler caught: in the OAuth shape when it is the client's (or an outage),
 * logged at its level without detail; anything else is rethrown, for the scope's error handler to
 * answer 500 `server_error`.
 */
export function sendOAuthError(request: FastifyRequest, reply: FastifyReply, error: unknown, endpoint: string): FastifyReply {
  const answer = oauthErrorFor(error);
  if (!answer) throw error;
  const { logLevel, err } = classify(error);
  const line = logLevel === "warn" ? `database unavailable at the ${endpoint} endpoint` : "request refused";
  request.log[logLevel]({ err }, line);
  return sendOAuth(reply, answer);
}

/** RFC 6749 section 5.1: token responses, and our error answers too, are never cached. */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header("cache-control", "no-store").header("pragma", "no-cache");
}

export function sendOAuth(reply: FastifyReply, answer: OAuthAnswer): FastifyReply {
  noStore(reply);
  for (const [name, value] of Object.entries(answer.headers ?? {})) reply.header(name, value);
  return reply.code(answer.status).send(answer.body);
}
