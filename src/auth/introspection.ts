/** Token introspection (RFC 7662): what a resource server may learn of a token, from the checks every door applies. */
import { InvalidToken } from "../errors";
import { checkAccessToken } from "./live-access-token";
import { refreshTokenDigest, sessionRefusal, successorStillAnswers, type SessionDeps } from "./refresh-tokens";

/** RFC 7662 section 2.2: `{"active": false}` says nothing more, whatever the reason. */
export type Introspection = { readonly active: false } | ActiveToken;

export interface ActiveToken {
  readonly active: true;
  readonly token_type: "access_token" | "refresh_token";
  readonly sub: string;
  readonly username: string;
  /** The token's scopes that the account still holds, space-separated. */
  readonly scope: string;
  readonly exp: number;
  readonly iat: number;
  readonly iss: string;
  readonly aud: string;
  /** The session; absent only for an access token minted elsewhere without `sid`. */
  readonly sid?: string;
  /** Access tokens only. */
  readonly jti?: string;
}

export interface IntrospectionDeps extends SessionDeps {
  /** JWT_ISSUER and JWT_AUDIENCE: what our tokens carry, and were checked against. */
  readonly issuer: string;
  readonly audience: string;
}

const INACTIVE: Introspection = Object.freeze({ active: false });

/**
 * Describes a token as the server would judge it now, reading only. An access token is active when
 * checkAccessToken (the same function behind every GraphQL request) accepts it and its user is
 * active; a refresh token when POST /token's refresh grant would accept it: its session live and
 * refreshing, its user active, and the token the session's current one, or spent so recently
 * (REFRESH_TOKEN_REUSE_INTERVAL) that presenting it again gets the current one back.
 * @returns `{active: false}` for anything else: expired, revoked, of a disabled or deleted user, malformed.
 * @throws ServiceUnavailable when the database cannot answer (never "inactive" for an outage).
 */
export async function introspectToken(deps: IntrospectionDeps, token: string): Promise<Introspection> {
  return (await introspectRefreshToken(deps, token)) ?? (await introspectAccessToken(deps, token));
}

async function introspectAccessToken(deps: IntrospectionDeps, token: string): Promise<Introspection> {
  let live;
  try {
    live = await checkAccessToken(deps, token);
  } catch (error) {
    if (error instanceof InvalidToken) return INACTIVE;
    throw error;
  }
  const { viewer, claims } = live;
  if (viewer.user.disabled) return INACTIVE;
  return {
    active: true,
    token_type: "access_token",
    sub: viewer.user.id,
    username: viewer.user.username,
    scope: viewer.scopes.join(" "),
    exp: claims.exp,
    iat: claims.iat,
    iss: deps.issuer,
    aud: deps.audience,
    ...(claims.sid !== undefined ? { sid: claims.sid } : {}),
    jti: claims.jti,
  };
}

/** undefined when the token is not of a refresh token's shape (it may be an access token). */
async function introspectRefreshToken(deps: IntrospectionDeps, token: string): Promise<Introspection | undefined> {
  const digest = refreshTokenDigest(token);
  if (digest === undefined) return undefined;
  const record = await deps.sessions.findToken(digest);
  const now = deps.clock.now();
  if (!record || sessionRefusal(record, now) !== undefined) return INACTIVE;
  if (record.spentAt !== null && !(await successorStillAnswers(deps, record, digest, now))) return INACTIVE;
  const subject = await deps.users.findTokenSubject(record.userId);
  if (!subject || subject.user.disabled) return INACTIVE;
  const { user } = subject;
  return {
    active: true,
    token_type: "refresh_token",
    sub: user.id,
    username: user.username,
    // What a refresh would grant: a scope the account has lost since the login is not.
    scope: record.scopes.filter((scope) => user.scopes.includes(scope)).join(" "),
    exp: Math.floor(record.sessionExpiresAt / 1000),
    iat: Math.floor(record.createdAt / 1000),
    iss: deps.issuer,
    aud: deps.audience,
    sid: record.sessionId,
  };
}
