/** Refresh tokens: start a session, rotate (reuse detection, reuse interval), log out. Only digests are stored. */
import { createHash, createHmac, createSecretKey, hkdfSync, randomBytes, randomUUID, type KeyObject } from "node:crypto";
import { type AuthEventType, type EventClient, type EventRecorder } from "../audit/audit";
import { type Clock } from "../clock";
import { InvalidRefreshToken } from "../errors";
import { type Logger } from "../log";
import { type Metrics } from "../metrics/metrics";
import { type RefreshTokenRecord, type SessionStore } from "../sessions/session.store";
import { type UserStore } from "../users/user.store";
import { type SigningKeys } from "./keys";
import { narrowScopes, parseRequestedScopes } from "../users/scopes";
import { type IssuedAccessToken, type TokenService } from "./tokens";
import { revokeAllTokensOfUser } from "./user-revocation";

export interface SessionDeps {
  readonly sessions: SessionStore;
  readonly users: UserStore;
  readonly tokens: TokenService;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The audit log: every use case here records its event through it. */
  readonly audit: EventRecorder;
  /** REFRESH_TOKEN_EXPIRE_DAYS: a session's absolute life, never extended by rotation. */
  readonly refreshTokenExpireDays: number;
  /** REFRESH_TOKEN_REUSE_INTERVAL: seconds a spent token still gets its successor back; 0 is strict. */
  readonly refreshTokenReuseInterval: number;
  /** The server key a token's successor is derived with (see refreshTokenKey). */
  readonly refreshTokenKey: KeyObject;
  /** The outcome counters (METRICS_PORT); login and refresh count theirs. */
  readonly metrics: Metrics;
}

/** An access token and the refresh token that can replace it. */
export interface TokenPair extends IssuedAccessToken {
  readonly refreshToken: string;
}

/** What starts a session: a password (and, with two-factor on, a code) just verified. */
export interface SessionStart {
  readonly userId: string;
  readonly scopes: readonly string[];
  /** The user's token version, read in the same query that loaded the user. */
  readonly tokenVersion: number;
  /** The User-Agent header sent with the login (at most 512 characters are kept). */
  readonly userAgent?: string;
  readonly clientAddress?: string;
  readonly mfa?: boolean;
  /** The event recorded with the new session, in its transaction (`login.succeeded`, `mfa.succeeded`). */
  readonly event?: AuthEventType;
}

/**
 * The `amr` claim (RFC 8176) of a session's access tokens: a password, and with a second factor a
 * one-time code (`otp`, for a TOTP code and a recovery code alike). Kept on the session as `mfa`,
 * so every refresh carries the value its login earned.
 */
export function amrOf(mfa: boolean): readonly string[] {
  return mfa ? ["pwd", "otp"] : ["pwd"];
}

/** 32 random bytes: 256 bits, as base64url (43 characters). */
const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** Expired sessions deleted per login at most: the tables are kept small without any scheduled job. */
const PRUNE_BATCH = 100;
const DAY_MS = 24 * 60 * 60 * 1000;
const CHILD_KEY_INFO = "graphql-auth-server refresh-token successor v1";
/** The reason InvalidRefreshToken carries when a spent token came back: the session has ended. */
const REUSED = "reused";

/** The digest a refresh token is stored and looked up by. SHA-256 suffices: the token is 256 random bits. */
export function hashRefreshToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * The key successors are derived with: HKDF-SHA256 of the signing key (the HS256 secret, or the
 * newest private key), so every instance of a deployment derives the same successor and nothing
 * new has to be configured. The derived key is not the signing key: a successor reveals nothing
 * that could sign a token.
 */
export function refreshTokenKey(keys: Pick<SigningKeys, "signing">): KeyObject {
  const { key } = keys.signing;
  const material = key.type === "secret" ? key.export() : key.export({ type: "pkcs8", format: "der" });
  return createSecretKey(Buffer.from(hkdfSync("sha256", material, "", CHILD_KEY_INFO, 32)));
}

/**
 * The successor of the token whose digest is `parentDigest`: HMAC-SHA256 under the server key, as
 * 43 base64url characters. Derived rather than random, so that every caller presenting the same
 * parent (two tabs, two instances) gets the very same successor without it ever being stored:
 * only its digest is, and a copy of the database (digests, no key) cannot compute it.
 */
function successorOf(deps: SessionDeps, parentDigest: string): string {
  return createHmac("sha256", deps.refreshTokenKey).update(parentDigest, "utf8").digest("base64url");
}

/**
 * Starts a session: a new refresh token beside an access token for `scopes` carrying the session's
 * id (`sid`). Also prunes a bounded batch of expired sessions; a failure there is logged and never
 * fails the login.
 */
export async function startSession(deps: SessionDeps, start: SessionStart): Promise<TokenPair> {
  const now = deps.clock.now();
  const sessionId = randomUUID();
  const expiresAt = now + deps.refreshTokenExpireDays * DAY_MS;
  const token = randomBytes(TOKEN_BYTES).toString("base64url");
  const session = (sessions: SessionStore) =>
    sessions.start(
      {
        id: sessionId,
        userId: start.userId,
        createdAt: now,
        expiresAt,
        userAgent: start.userAgent ?? null,
        clientAddress: start.clientAddress ?? null,
        mfa: start.mfa ?? false,
      },
      {
        id: randomUUID(),
        tokenHash: hashRefreshToken(token),
        sessionId,
        parentId: null,
        userId: start.userId,
        scopes: start.scopes,
        createdAt: now,
      },
    );
  const { event } = start;
  if (event === undefined) await session(deps.sessions);
  else
    await deps.sessions.transaction(async (sessions, trx) => {
      await session(sessions);
      const { userId, userAgent, clientAddress } = start;
      await deps.audit.recordEvent(trx, { type: event, userId, sessionId, userAgent, clientAddress });
    });
  await deps.sessions.pruneExpired(now, PRUNE_BATCH).catch((error: unknown) => {
    deps.logger.warn({ err: error }, "pruning expired sessions failed");
  });
  const access = await deps.tokens.issueAccessToken(start.userId, start.scopes, {
    tokenVersion: start.tokenVersion,
    notAfter: Math.floor(expiresAt / 1000),
    sessionId,
    amr: amrOf(start.mfa ?? false),
  });
  return { ...access, refreshToken: token };
}

/**
 * Spends a refresh token and returns a new pair from the same session (RFC 6749 section 6).
 * `requestedScopes` may narrow the new access token, never widen it; the new refresh token keeps
 * the session's scopes. A token spent less than REFRESH_TOKEN_REUSE_INTERVAL seconds ago whose
 * successor is still unspent gets that same successor back with a fresh access token (two tabs
 * refreshing at once both stay logged in). Any other spent token is reuse: the session ends.
 * @throws InvalidRefreshToken for an unknown, reused, revoked or expired token, or an inactive
 *   user; ScopeNotGranted for a scope beyond the session's, InvalidScope for a malformed scope
 *   request (neither spends the token).
 */
export async function refresh(
  deps: SessionDeps,
  presented: string,
  requestedScopes?: readonly string[] | null,
  client: EventClient = {},
): Promise<TokenPair> {
  // Counted here, once per attempt: a new pair, a refused token, or reuse (the session just
  // ended). A scope refused, or an outage, decides nothing about the token and counts nothing.
  try {
    const pair = await rotate(deps, presented, requestedScopes, client);
    deps.metrics.refreshOutcome("success");
    return pair;
  } catch (error) {
    if (error instanceof InvalidRefreshToken) deps.metrics.refreshOutcome(error.cause === REUSED ? "reuse" : "invalid");
    throw error;
  }
}

async function rotate(
  deps: SessionDeps,
  presented: string,
  requestedScopes: readonly string[] | null | undefined,
  client: EventClient,
): Promise<TokenPair> {
  // A malformed scope request is refused before the token is looked at, so it spends nothing.
  const requested = parseRequestedScopes(requestedScopes);
  const digest = refreshTokenDigest(presented);
  let record = digest === undefined ? undefined : await deps.sessions.findToken(digest);
  if (!record || digest === undefined) throw new InvalidRefreshToken("unknown");
  const now = deps.clock.now();
  checkSession(record, now);

  const subject = await deps.users.findTokenSubject(record.userId);
  if (!subject || subject.user.disabled) {
    await deps.sessions.revoke(record.sessionId, now);
    throw new InvalidRefreshToken("inactive user");
  }
  // A scope the account has lost since the login is not granted again.
  const available = record.scopes.filter((scope) => subject.user.scopes.includes(scope));
  const granted = narrowScopes(available, requested);

  const successor = successorOf(deps, digest);
  if (record.spentAt === null) {
    const child = {
      id: randomUUID(),
      tokenHash: hashRefreshToken(successor),
      sessionId: record.sessionId,
      parentId: record.id,
      userId: record.userId,
      scopes: record.scopes,
      createdAt: now,
    };
    // The conditional spend decides races: of two refreshes with one token exactly one rotates;
    // the other then finds the token spent a moment ago and is judged by the reuse interval.
    if (!(await deps.sessions.rotate(record.id, child, now))) {
      record = await deps.sessions.findToken(digest);
      if (!record || record.spentAt === null) throw new InvalidRefreshToken("unknown");
      checkSession(record, now);
      await repeatWithinInterval(deps, record, digest, now, client);
    }
  } else {
    await repeatWithinInterval(deps, record, digest, now, client);
  }
  const access = await deps.tokens.issueAccessToken(record.userId, granted, {
    tokenVersion: subject.tokenVersion,
    notAfter: Math.floor(record.sessionExpiresAt / 1000),
    sessionId: record.sessionId,
    amr: amrOf(record.mfa),
  });
  return { ...access, refreshToken: successor };
}

/**
 * Ends the session a refresh token belongs to, or with `everywhere` every session of its user and
 * every access token issued so far. The session's access tokens are refused from the next request.
 * A token that is unknown, expired or already ended ends nothing and raises no error (as RFC 7009
 * section 2.2 advises for revocation); a spent one outside the reuse interval counts as reuse.
 * @returns whether the token was live, so that something was ended now.
 */
export async function logout(deps: SessionDeps, presented: string, everywhere: boolean, client: EventClient = {}): Promise<boolean> {
  const digest = refreshTokenDigest(presented);
  if (digest === undefined) return false;
  const record = await deps.sessions.findToken(digest);
  const now = deps.clock.now();
  if (!record || record.sessionExpiresAt <= now) return false;
  // Conditional, like a rotation: of a logout and a revocation at once, one ends the session.
  const ended = await deps.sessions.revoke(record.sessionId, now);
  const current = record.spentAt === null || withinInterval(deps, record.spentAt, now);
  if (!current && ended) await reuseDetected(deps, record, client);
  if (!ended || !current) return false;
  const { userId, sessionId } = record;
  await deps.audit.recordEventAlone({ type: "logout", userId, sessionId, ...client });
  if (everywhere) await revokeAllTokensOfUser(deps, record.userId);
  return true;
}

/**
 * The digest to look a presented refresh token up by, or undefined when it is not of the shape we
 * issue: an access JWT, '', 1 MB or SQL is refused without a query.
 */
export function refreshTokenDigest(presented: string): string | undefined {
  return TOKEN_SHAPE.test(presented) ? hashRefreshToken(presented) : undefined;
}

/** Why a token's session refreshes no more (ended, the user disabled since, expired), or undefined while it does. */
export function sessionRefusal(record: RefreshTokenRecord, now: number): "revoked" | "expired" | undefined {
  if (record.sessionRevoked || record.refreshEnded) return "revoked";
  if (record.sessionExpiresAt <= now) return "expired";
  return undefined;
}

function checkSession(record: RefreshTokenRecord, now: number): void {
  const refusal = sessionRefusal(record, now);
  if (refusal !== undefined) throw new InvalidRefreshToken(refusal);
}

function withinInterval(deps: SessionDeps, spentAt: number, now: number): boolean {
  return deps.refreshTokenReuseInterval > 0 && now - spentAt <= deps.refreshTokenReuseInterval * 1000;
}

/**
 * Whether a spent token presented again still gets its successor back: spent within
 * REFRESH_TOKEN_REUSE_INTERVAL, and that successor not itself spent, in the same live session.
 * Reads only. `digest` is the spent token's own.
 */
export async function successorStillAnswers(deps: SessionDeps, record: RefreshTokenRecord, digest: string, now: number): Promise<boolean> {
  if (record.spentAt === null || !withinInterval(deps, record.spentAt, now)) return false;
  const child = await deps.sessions.findToken(hashRefreshToken(successorOf(deps, digest)));
  return child !== undefined && child.sessionId === record.sessionId && child.spentAt === null && !child.sessionRevoked;
}

/**
 * A spent token presented again: within the interval, and with its successor not yet spent
 * itself, the answer is that successor (nothing is written but lastUsedAt); otherwise it is reuse
 * and the whole session ends.
 * @throws InvalidRefreshToken("reused") after ending the session.
 */
async function repeatWithinInterval(
  deps: SessionDeps,
  record: RefreshTokenRecord,
  digest: string,
  now: number,
  client: EventClient,
): Promise<void> {
  if (await successorStillAnswers(deps, record, digest, now)) {
    await deps.sessions.touch(record.sessionId, now);
    return;
  }
  if (await deps.sessions.revoke(record.sessionId, now)) await reuseDetected(deps, record, client);
  throw new InvalidRefreshToken(REUSED);
}

/** A spent token came back outside the interval and its session was just ended: a warning and an event. */
async function reuseDetected(deps: SessionDeps, record: RefreshTokenRecord, client: EventClient): Promise<void> {
  const { userId, sessionId } = record;
  deps.logger.warn({ userId, sessionId }, "refresh token reused: its session is ended");
  await deps.audit.recordEventAlone({ type: "refresh.reuse_detected", userId, sessionId, ...client });
}
