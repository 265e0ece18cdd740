/** The login use case: rate limit, verify the password, check the account, grant scopes, upgrade the hash, issue. */
import { EmailNotVerified, HashingUnavailable, InactiveUser, InvalidCredentials, MfaRequired, RateLimited } from "../errors";
import { type LoginOutcome } from "../metrics/metrics";
import { isVerifiablePassword, MAX_PASSWORD_LENGTH } from "../passwords/password-policy";
import { type PasswordService } from "../passwords/passwords";
import { grantScopes, parseRequestedScopes } from "../users/scopes";
import { type LoginAttempt, type LoginLimiter } from "./rate-limit";
import { startSession, type SessionDeps, type TokenPair } from "./refresh-tokens";
import { type SecondFactor } from "./second-factor";

export interface LoginDeps extends SessionDeps {
  readonly passwords: PasswordService;
  /** Failed-login counters (CONTRACT section 7), consulted before any password is verified. */
  readonly limiter: LoginLimiter;
  /** Two-factor authentication (src/mfa/): asked after a correct password, and the second step. */
  readonly secondFactor: SecondFactor;
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
  /** The User-Agent header, recorded on the session. */
  readonly userAgent?: string;
  /** Aborts when the client has gone, so a verification still waiting is dropped unhashed. */
  readonly signal?: AbortSignal;
}

/**
 * Logs a user in. Both doors, the `login` mutation and `POST /token`, come here.
 * @returns a new access token carrying the granted scopes, and the first refresh token of a new session.
 * @throws RateLimited when the username or the client address has spent its failure budget (the
 *   right password too is refused then), InvalidCredentials for an unknown username or a wrong
 *   password (one answer for both), InactiveUser for a disabled account after a correct password,
 *   EmailNotVerified (REQUIRE_EMAIL_VERIFICATION) for an unverified address after a correct password,
 *   UnknownScope for a scope the account does not hold, MfaRequired (with the mfaToken) for an
 *   active account with two-factor authentication on, after every other check, InvalidScope
 *   (before anything is counted or verified) for a scope request that breaks the grammar of
 *   RFC 6749 section 3.3, ServerBusy when HASH_QUEUE_MAX verifications already wait, ShuttingDown
 *   once the server stops (neither counts as a failure).
 */
export async function login(deps: LoginDeps, request: LoginRequest): Promise<TokenPair> {
  // Counted here, once per attempt, from what the story below decided; a request refused before
  // any decision (a malformed scope, a busy server, an outage) is no outcome and counts nothing.
  try {
    const pair = await admittedLogin(deps, request);
    deps.metrics.loginOutcome("success");
    return pair;
  } catch (error) {
    const outcome = loginOutcomeOf(error);
    if (outcome !== undefined) deps.metrics.loginOutcome(outcome);
    throw error;
  }
}

/** The outcome an error of the login story stands for; undefined for one that decides none. */
function loginOutcomeOf(error: unknown): LoginOutcome | undefined {
  if (error instanceof InvalidCredentials || error instanceof EmailNotVerified) return "failure";
  if (error instanceof RateLimited) return "rate_limited";
  if (error instanceof InactiveUser) return "inactive";
  if (error instanceof MfaRequired) return "mfa_required";
  return undefined;
}

async function admittedLogin(deps: LoginDeps, request: LoginRequest): Promise<TokenPair> {
  // Admitted before anything else: beyond the hash queue's bound a login is answered at once,
  // before it spends database connections that the requests the server can still serve need.
  const release = deps.passwords.admitVerification();
  try {
    return await passwordLogin(deps, request);
  } finally {
    release();
  }
}

async function passwordLogin(deps: LoginDeps, request: LoginRequest): Promise<TokenPair> {
  const { users, passwords, limiter, logger, audit } = deps;
  const requested = parseRequestedScopes(request.scopes);
  const client = { clientAddress: request.clientAddress, userAgent: request.userAgent };
  // Counted before anything is verified, for unknown usernames exactly as for known ones, so a
  // locked username refuses even the right password and the limit reveals nothing.
  let attempt: LoginAttempt;
  try {
    attempt = await limiter.begin(request.username, request.clientAddress);
  } catch (error) {
    if (error instanceof RateLimited) {
      // The event names the account when there is one (for its owner's security log); an
      // unknown username is recorded as none, like a failed login.
      const userId = (await users.findUserByUsername(request.username))?.id;
      await audit.recordEventAlone({ type: "login.rate_limited", userId, ...client });
    }
    throw error;
  }
  const found = await users.findCredentials(request.username);

  // Unknown user, unusable password and wrong password all cost one verification padded to the
  // same floor and end in the same error, so neither the answer nor its timing tells an attacker
  // which usernames exist or what kind of hash an account has.
  if (!found || !isVerifiablePassword(request.password)) {
    const bounded = request.password.slice(0, MAX_PASSWORD_LENGTH);
    await settled(attempt, passwords.verifyDummy(bounded, { signal: request.signal }));
    await attempt.failed();
    // No username in the event: an unknown one is often a password typed in the wrong field.
    await audit.recordEventAlone({ type: "login.failed", userId: found?.user.id, ...client });
    throw new InvalidCredentials();
  }
  const verification = await settled(attempt, passwords.verify(request.password, found.passwordHash, { signal: request.signal }));
  if (verification.refused) {
    logger.warn(
      { userId: found.user.id, hashFamily: verification.refused.family, reason: verification.refused.reason },
      "stored password hash refused",
    );
  }
  if (!verification.ok) {
    await attempt.failed();
    await audit.recordEventAlone({ type: "login.failed", userId: found.user.id, ...client });
    throw new InvalidCredentials();
  }
  // With two-factor on, a correct password is not a failure, but only the code finishes the login:
  // the attempt is given back without clearing the username's count, so logging in again cannot
  // reset the budget that wrong codes are counted against (CONTRACT section 11).
  const secondFactor = await deps.secondFactor.isEnabled(found.user.id);
  await (secondFactor ? attempt.abandoned() : attempt.succeeded());

  // The disabled state is revealed only to someone who knows the password.
  if (found.user.disabled) {
    await audit.recordEventAlone({ type: "login.failed", userId: found.user.id, ...client });
    throw new InactiveUser();
  }
  // Likewise the unverified address: only after the right password.
  if (deps.requireEmailVerification === true && !found.user.emailVerified) {
    await audit.recordEventAlone({ type: "login.failed", userId: found.user.id, ...client });
    throw new EmailNotVerified();
  }
  const granted = grantScopes(found.user.scopes, requested);

  if (verification.needsRehash && found.passwordHash) {
    const upgraded = await passwords.hash(request.password);
    const replaced = await users.replacePasswordHash(found.user.id, found.passwordHash, upgraded);
    logger.info({ userId: found.user.id, replaced }, "password hash upgraded to the current argon2id policy");
  }

  // The second factor is asked for last: nothing about it shows before the password is right and
  // the account active.
  if (secondFactor) {
    const challenge = { userId: found.user.id, scopes: granted, tokenVersion: found.tokenVersion };
    const mfaToken = await deps.secondFactor.challenge(challenge);
    await audit.recordEventAlone({ type: "login.mfa_required", userId: found.user.id, ...client });
    throw new MfaRequired(mfaToken);
  }
  return startSession(deps, {
    userId: found.user.id,
    scopes: granted,
    tokenVersion: found.tokenVersion,
    userAgent: request.userAgent,
    clientAddress: request.clientAddress,
    event: "login.succeeded",
  });
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
