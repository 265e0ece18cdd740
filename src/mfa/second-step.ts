/** The second step of a two-factor login: the mfaToken a correct password earns, and verifyMfa. */
import { createHash, randomBytes } from "node:crypto";
import { InactiveUser, InvalidMfaCode, InvalidMfaToken } from "../errors";
import { startSession, type TokenPair } from "../auth/refresh-tokens";
import { type SecondFactor, type SecondFactorChallenge, type SecondFactorVerification } from "../auth/second-factor";
import { type MfaDeps } from "./mfa-deps";
import { type MfaStore } from "./mfa.store";
import { digestRecoveryCode, normaliseRecoveryCode } from "./recovery-codes";
import { openSecret } from "./secret-box";
import { looksLikeTotpCode, matchTotpStep } from "./totp";

/** CONTRACT section 11: an mfaToken lives 5 minutes. */
export const MFA_TOKEN_TTL_MS = 5 * 60 * 1000;
/** 256 random bits as base64url, like a refresh token. */
const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** The second factor the login story asks (auth/second-factor.ts), over these use cases. */
export function secondFactor(deps: MfaDeps): SecondFactor {
  return {
    isEnabled: (userId) => deps.mfa.isEnabled(userId),
    challenge: (challenge) => startChallenge(deps, challenge),
    verify: (verification) => verifyMfa(deps, verification),
  };
}

/** SHA-256 of an mfaToken: what is stored and looked up (the token is 256 random bits). */
function digestOf(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * Stores a challenge for a user whose password was just verified, and prunes a bounded batch of
 * expired ones (a failure there is logged and never fails the login).
 * @returns the mfaToken: opaque, 5 minutes, single use; only its digest is stored.
 */
export async function startChallenge(deps: MfaDeps, challenge: SecondFactorChallenge): Promise<string> {
  const now = deps.clock.now();
  const token = randomBytes(TOKEN_BYTES).toString("base64url");
  await deps.mfa.createChallenge({
    ...challenge,
    tokenHash: digestOf(token),
    createdAt: now,
    expiresAt: now + MFA_TOKEN_TTL_MS,
  });
  await deps.mfa.pruneChallenges(now).catch((error: unknown) => {
    deps.logger.warn({ err: error }, "pruning expired MFA challenges failed");
  });
  return token;
}

/**
 * Finishes a two-factor login: the mfaToken with a current TOTP code (one step of skew either way,
 * each step's code accepted once) or an unused recovery code. The code and the token are spent in
 * one transaction, so a code is never spent for a token that another request spent meanwhile.
 * @returns the pair of a new session with `mfa` on (`amr` `["pwd","otp"]`).
 * @throws InvalidMfaToken for an unknown, spent or expired token, or one whose user's tokens were
 *   all revoked since (not counted); RateLimited when the username or the address has spent its
 *   budget; InvalidMfaCode for a wrong, reused or stale code (counted as a failed login);
 *   InactiveUser when the account was disabled since the password step.
 */
export async function verifyMfa(deps: MfaDeps, verification: SecondFactorVerification): Promise<TokenPair> {
  const now = deps.clock.now();
  // Anything but the shape we issue is refused without a query.
  if (!TOKEN_SHAPE.test(verification.mfaToken)) throw new InvalidMfaToken("malformed");
  const digest = digestOf(verification.mfaToken);
  const challenge = await deps.mfa.findChallenge(digest);
  if (!challenge) throw new InvalidMfaToken("unknown");
  if (challenge.used || challenge.expiresAt <= now) throw new InvalidMfaToken("spent or expired");
  const subject = await deps.users.findTokenSubject(challenge.userId);
  // A password change or "log out everywhere" since the password step voids the challenge too.
  if (!subject || subject.tokenVersion !== challenge.tokenVersion) throw new InvalidMfaToken("revoked");
  const userId = subject.user.id;

  // Counted like a password attempt, against the same username budget (CONTRACT section 11).
  const attempt = await deps.limiter.begin(subject.user.username, verification.clientAddress);
  let accepted: boolean;
  try {
    accepted = await deps.mfa.transaction(async (store) => {
      if (!(await acceptCode(deps, store, userId, verification.code, now))) return false;
      // Rolls the code back: the token was spent by another request since it was read.
      if (!(await store.spendChallenge(digest, now))) throw new InvalidMfaToken("spent meanwhile");
      return true;
    });
  } catch (error) {
    await attempt.abandoned();
    throw error;
  }
  const client = { clientAddress: verification.clientAddress, userAgent: verification.userAgent };
  if (!accepted) {
    await attempt.failed();
    await deps.audit.recordEventAlone({ type: "mfa.failed", userId, ...client });
    throw new InvalidMfaCode();
  }
  await attempt.succeeded();
  if (subject.user.disabled) throw new InactiveUser();
  // A scope the account has lost since the password step is not granted.
  const scopes = challenge.scopes.filter((scope) => subject.user.scopes.includes(scope));
  const { userAgent, clientAddress } = verification;
  const session = { userId, scopes, tokenVersion: subject.tokenVersion, userAgent, clientAddress, mfa: true };
  return startSession(deps, { ...session, event: "mfa.succeeded" });
}

/**
 * Spends `code` for the user if it is good: a six-digit code against the TOTP secret (its step
 * must be later than the last one accepted), anything else as a recovery code.
 * @returns whether it was accepted (and is now spent).
 */
async function acceptCode(deps: MfaDeps, store: MfaStore, userId: string, code: string, nowMs: number): Promise<boolean> {
  if (looksLikeTotpCode(code)) {
    const enrolment = await store.findTotp(userId);
    if (!enrolment?.confirmed) return false;
    const secret = openSecret(deps.mfaKeys.open, userId, enrolment.secretBox);
    if (secret === undefined) {
      // The key changed (or the row was altered): TOTP cannot work for this user, recovery codes still do.
      deps.logger.error({ userId }, "a TOTP secret does not open with the configured key (MFA_ENCRYPTION_KEY or SECRET_KEY changed?)");
      return false;
    }
    const step = matchTotpStep(secret, code, nowMs);
    return step !== undefined && (await store.useTotpStep(userId, step));
  }
  const normalised = normaliseRecoveryCode(code);
  return normalised !== undefined && (await store.useRecoveryCode(userId, digestRecoveryCode(normalised), nowMs));
}
