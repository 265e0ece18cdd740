/** The login use case: rate limit, verify the password, check the account, grant scopes, upgrade the hash, issue. */
import { EmailNotVerified, HashingUnavailable, InactiveUser, InvalidCredentials } from "../errors";
import { isVerifiablePassword, MAX_PASSWORD_LENGTH } from "../passwords/password-policy";
import { type PasswordService } from "../passwords/passwords";
import { grantScopes, parseRequestedScopes } from "../users/scopes";
import { type LoginAttempt, type LoginLimiter } from "./rate-limit";
import { startSession, type SessionDeps, type TokenPair } from "./refresh-tokens";

export interface LoginDeps extends SessionDeps {
  readonly passwords: PasswordService;
  /** Failed-login counters (CONTRACT section 7), consulted before any password is verified. */
  readonly limiter: LoginLimiter;
  /** REQUIRE_EMAIL_VERIFICATION: an account whose address is unverified may not log in. */
  readonly requireEmailVerification?: boolean;
}

export interface LoginRequest {
  readonly username: string;
  readonly password: string;
  /** Requested scopes; undefined grants every scope the account holds. */
  readonly scopes?: readonly string[] | null;
  /** Where the request came from (the socket's address, or X-Forwarded-For behind a trusted proxy). */
  readonly clientAddress: string;
  /** Aborts when the client has gone, so a verification still waiting is dropped unhashed. */
  readonly signal?: AbortSignal;
}

/**
 * Logs a user in. Both doors, the `login` mutation and `POST /token`, come here.
 * @returns a new access token carrying the granted scopes, and the first refresh token of a new family.
 * @throws RateLimited when the username or the client address has spent its failure budget (the
 *   right password too is refused then), InvalidCredentials for an unknown username or a wrong
 *   password (one answer for both), InactiveUser for a disabled account after a correct password,
 *   EmailNotVerified (REQUIRE_EMAIL_VERIFICATION) for an unverified address after a correct password,
 *   UnknownScope for a scope the account does not hold, InvalidScope (before anything is counted or
 *   verified) for a scope request that breaks the grammar of RFC 6749 section 3.3, ServerBusy when
 *   HASH_QUEUE_MAX verifications already wait, ShuttingDown once the server stops (neither counts
 *   as a failure).
 */
export async function login(deps: LoginDeps, request: LoginRequest): Promise<TokenPair> {
  const { users, passwords, limiter, logger } = deps;
  const requested = parseRequestedScopes(request.scopes);
  // Counted before anything is verified, for unknown usernames exactly as for known ones, so a
  // locked username refuses even the right password and the limit reveals nothing.
  const attempt = await limiter.begin(request.username, request.clientAddress);
  const found = await users.findCredentials(request.username);

  // Unknown user, unusable password and wrong password all cost one verification padded to the
  // same floor and end in the same error, so neither the answer nor its timing tells an attacker
  // which usernames exist or what kind of hash an account has.
  if (!found || !isVerifiablePassword(request.password)) {
    const bounded = request.password.slice(0, MAX_PASSWORD_LENGTH);
    await settled(attempt, passwords.verifyDummy(bounded, { signal: request.signal }));
    await attempt.failed();
    throw new InvalidCredentials();
  }
  const verification = await settled(attempt, passwords.verify(request.password, found.passwordHash, { signal: request.signal }));
  if (verification.refused) {
    logger.warn({ userId: found.user.id, hashFamily: verification.refused.family, reason: verification.refused.reason }, "stored password hash refused");
  }
  if (!verification.ok) {
    await attempt.failed();
    throw new InvalidCredentials();
  }
  await attempt.succeeded();

  // The disabled state is revealed only to someone who knows the password.
  if (found.user.disabled) throw new InactiveUser();
  // Likewise the unverified address: only after the right password.
  if (deps.requireEmailVerification === true && !found.user.emailVerified) throw new EmailNotVerified();
  const granted = grantScopes(found.user.scopes, requested);

  if (verification.needsRehash && found.passwordHash) {
    const upgraded = await passwords.hash(request.password);
    const replaced = await users.replacePasswordHash(found.user.id, found.passwordHash, upgraded);
    logger.info({ userId: found.user.id, replaced }, "password hash upgraded to the current argon2id policy");
  }
  return startSession(deps, found.user.id, granted, found.tokenVersion);
}

/**
 * Waits for a verification; one that never ran (queue full, client gone, shutting down) gives its
 * attempt back, since no password was tried.
 */
export async function settled<T>(attempt: LoginAttempt | undefined, verification: Promise<T>): Promise<T> {
  try {
    return await verification;
  } catch (error) {
    if (error instanceof HashingUnavailable) await attempt?.abandoned();
    throw error;
  }
}
