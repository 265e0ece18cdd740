/** Refresh tokens: start a login's family, rotate with reuse detection, revoke. Only digests are stored. */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { type Clock } from "../clock";
import { InvalidRefreshToken } from "../errors";
import { type Logger } from "../log";
import { type UserStore } from "../users/user.store";
import { type NewRefreshToken, type RefreshTokenRecord, type RefreshTokenStore } from "./refresh-token.store";
import { narrowScopes, parseRequestedScopes } from "../users/scopes";
import { type IssuedAccessToken, type TokenService } from "./tokens";
import { revokeAllTokensOfUser } from "./user-revocation";

export interface SessionDeps {
  readonly refreshTokens: RefreshTokenStore;
  readonly users: UserStore;
  readonly tokens: TokenService;
  readonly clock: Clock;
  readonly logger: Logger;
  /** REFRESH_TOKEN_EXPIRE_DAYS: a login's absolute life, never extended by rotation. */
  readonly refreshTokenExpireDays: number;
}

/** An access token and the refresh token that can replace it. */
export interface TokenPair extends IssuedAccessToken {
  readonly refreshToken: string;
}

/** 32 random bytes: 256 bits, as base64url (43 characters). */
const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** Expired rows deleted per login at most: the table is kept small without any scheduled job. */
const PRUNE_BATCH = 100;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The digest a refresh token is stored and looked up by. SHA-256 suffices: the token is 256 random bits. */
export function hashRefreshToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * Starts a login's family: a new refresh token beside an access token for `scopes`. Also prunes a
 * bounded batch of expired rows; a failure there is logged and never fails the login.
 */
export async function startSession(deps: SessionDeps, userId: string, scopes: readonly string[], tokenVersion: number): Promise<TokenPair> {
  const now = deps.clock.now();
  const id = randomUUID();
  const familyExpiresAt = now + deps.refreshTokenExpireDays * DAY_MS;
  const { token, row } = newToken({ id, familyId: id, parentId: null, userId, scopes, createdAt: now, familyExpiresAt });
  await deps.refreshTokens.insert(row);
  await deps.refreshTokens.pruneExpired(now, PRUNE_BATCH).catch((error: unknown) => {
    deps.logger.warn({ err: error }, "pruning expired refresh tokens failed");
  });
  const access = await deps.tokens.issueAccessToken(userId, scopes, { tokenVersion, notAfter: Math.floor(familyExpiresAt / 1000) });
  return { ...access, refreshToken: token };
}

/**
 * Spends a refresh token and returns a new pair from the same family (RFC 6749 section 6).
 * `requestedScopes` may narrow the new access token, never widen it; the new refresh token keeps
 * the family's scopes. Presenting a spent token is reuse: the whole family is revoked.
 * @throws InvalidRefreshToken for an unknown, spent, revoked or expired token, or an inactive user;
 *   ScopeNotGranted for a scope beyond the family's, InvalidScope for a malformed scope request
 *   (neither spends the token).
 */
export async function refresh(deps: SessionDeps, presented: string, requestedScopes?: readonly string[] | null): Promise<TokenPair> {
  // A malformed scope request is refused before the token is looked at, so it spends nothing.
  const requested = parseRequestedScopes(requestedScopes);
  const record = await findRecord(deps, presented);
  if (!record) throw new InvalidRefreshToken("unknown");
  const now = deps.clock.now();
  if (record.revoked || record.familyRevoked) throw new InvalidRefreshToken("revoked");
  if (record.spent) {
    await revokeForReuse(deps, record, now);
    throw new InvalidRefreshToken("reused");
  }
  if (record.familyExpiresAt <= now) throw new InvalidRefreshToken("expired");

  const subject = await deps.users.findTokenSubject(record.userId);
  if (!subject || subject.user.disabled) {
    await deps.refreshTokens.revokeFamily(record.familyId, now);
    throw new InvalidRefreshToken("inactive user");
  }
  // A scope the account has lost since the login is not granted again.
  const available = record.scopes.filter((scope) => subject.user.scopes.includes(scope));
  const granted = narrowScopes(available, requested);

  const { token, row } = newToken({
    id: randomUUID(),
    familyId: record.familyId,
    parentId: record.id,
    userId: record.userId,
    scopes: record.scopes,
    createdAt: now,
    familyExpiresAt: record.familyExpiresAt,
  });
  // The conditional spend decides races: of two refreshes with one token exactly one rotates, and
  // the other is treated as the reuse it is indistinguishable from.
  if (!(await deps.refreshTokens.rotate(record.id, row, now))) {
    await revokeForReuse(deps, record, now);
    throw new InvalidRefreshToken("reused");
  }
  const access = await deps.tokens.issueAccessToken(record.userId, granted, {
    tokenVersion: subject.tokenVersion,
    notAfter: Math.floor(record.familyExpiresAt / 1000),
  });
  return { ...access, refreshToken: token };
}

/**
 * Ends the login a refresh token belongs to (its whole family), or with `everywhere` every login
 * of its user and every access token issued so far. A token that is unknown, expired or already
 * revoked ends nothing and raises no error (as RFC 7009 section 2.2 advises for revocation); a
 * spent one counts as reuse and its family is revoked.
 * @returns whether the token was live, so that something was ended now.
 */
export async function logout(deps: SessionDeps, presented: string, everywhere: boolean): Promise<boolean> {
  const record = await findRecord(deps, presented);
  const now = deps.clock.now();
  if (!record || record.familyExpiresAt <= now) return false;
  // Conditional, like a rotation: a logout and a refresh of one token cannot both win.
  const live = !record.familyRevoked && (await deps.refreshTokens.revokeIfLive(record.id, now));
  if (record.spent) await revokeForReuse(deps, record, now);
  else await deps.refreshTokens.revokeFamily(record.familyId, now);
  if (!live) return false;
  if (everywhere) await revokeAllTokensOfUser(deps, record.userId);
  return true;
}

/** Anything but the exact shape we issue is refused without a query: an access JWT, '', 1 MB, SQL. */
function findRecord(deps: SessionDeps, presented: string): Promise<RefreshTokenRecord | undefined> {
  if (!TOKEN_SHAPE.test(presented)) return Promise.resolve(undefined);
  return deps.refreshTokens.findByHash(hashRefreshToken(presented));
}

async function revokeForReuse(deps: SessionDeps, record: RefreshTokenRecord, now: number): Promise<void> {
  const revoked = await deps.refreshTokens.revokeFamily(record.familyId, now);
  deps.logger.warn({ userId: record.userId, familyId: record.familyId, revoked }, "refresh token reused: its family is revoked");
}

function newToken(fields: Omit<NewRefreshToken, "tokenHash">): { token: string; row: NewRefreshToken } {
  const token = randomBytes(TOKEN_BYTES).toString("base64url");
  return { token, row: { ...fields, tokenHash: hashRefreshToken(token) } };
}
