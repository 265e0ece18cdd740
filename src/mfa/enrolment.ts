/** Two-factor use cases of a signed-in user (enrol, confirm, disable, new recovery codes) and the operator's reset. */
import { type EventRecorder } from "../audit/audit";
import { InvalidEnrollmentCode, MfaAlreadyEnabled, MfaNotConfigured, MfaNotEnabled } from "../errors";
import { verifyCurrentPassword, type CurrentPasswordCheck } from "../auth/current-password";
import { type User } from "../users/user.entity";
import { type UserStore } from "../users/user.store";
import { type MfaDeps } from "./mfa-deps";
import { type MfaStore } from "./mfa.store";
import { digestRecoveryCode, generateRecoveryCodes, normaliseRecoveryCode } from "./recovery-codes";
import { openSecret, sealSecret } from "./secret-box";
import { generateTotpSecret, matchTotpStep, otpauthUri, qrCodeSvg } from "./totp";

/** What an authenticator app needs; the secret is shown here once and stored only sealed. */
export interface TotpEnrollmentView {
  readonly secret: string;
  readonly otpauthUri: string;
  readonly qrCodeSvg: string;
}

/**
 * Starts (or restarts) a TOTP enrolment: a new secret, replacing an unconfirmed one. Two-factor
 * stays off until confirmTotp.
 * @throws MfaAlreadyEnabled when it is on, MfaNotConfigured when there is no key to seal secrets with.
 */
export async function enrollTotp(deps: MfaDeps, user: User): Promise<TotpEnrollmentView> {
  const key = deps.mfaKeys.seal;
  if (!key) throw new MfaNotConfigured();
  const secret = generateTotpSecret();
  const stored = await deps.mfa.transaction((store) => store.putPendingTotp(user.id, sealSecret(key, user.id, secret), deps.clock.now()));
  if (!stored) throw new MfaAlreadyEnabled();
  const uri = otpauthUri(deps.issuer, user.username, secret);
  return { secret, otpauthUri: uri, qrCodeSvg: await qrCodeSvg(uri) };
}

/**
 * Turns two-factor on with a code from the pending enrolment (its step then counts as used).
 * @returns 10 recovery codes, shown this once; only their digests are stored.
 * @throws InvalidEnrollmentCode for a wrong code or no pending enrolment, MfaAlreadyEnabled when it is on.
 */
export async function confirmTotp(deps: MfaDeps, userId: string, code: string): Promise<string[]> {
  const now = deps.clock.now();
  return deps.mfa.transaction(async (store, trx) => {
    const enrolment = await store.findTotp(userId);
    if (enrolment?.confirmed) throw new MfaAlreadyEnabled();
    const secret = enrolment && openSecret(deps.mfaKeys.open, userId, enrolment.secretBox);
    const step = secret === undefined ? undefined : matchTotpStep(secret, code, now);
    if (step === undefined || !(await store.confirmTotp(userId, step, now))) throw new InvalidEnrollmentCode();
    await deps.audit.recordEvent(trx, { type: "mfa.enabled", userId });
    return replaceCodes(store, userId, now);
  });
}

/**
 * Turns two-factor off, after the current password (counted like a login).
 * @returns whether it was on.
 * @throws IncorrectPassword, RateLimited.
 */
export async function disableTotp(deps: MfaDeps, check: CurrentPasswordCheck): Promise<boolean> {
  await verifyCurrentPassword(deps, check);
  const removed = await deps.mfa.transaction(async (store, trx) => {
    const wasOn = await store.removeAll(check.userId);
    if (wasOn) await deps.audit.recordEvent(trx, { type: "mfa.disabled", userId: check.userId });
    return wasOn;
  });
  if (removed) deps.logger.info({ userId: check.userId }, "two-factor authentication turned off");
  return removed;
}

/**
 * Ten new recovery codes after the current password (counted like a login); the old ones die.
 * @throws IncorrectPassword, RateLimited, MfaNotEnabled when two-factor is off.
 */
export async function regenerateRecoveryCodes(deps: MfaDeps, check: CurrentPasswordCheck): Promise<string[]> {
  await verifyCurrentPassword(deps, check);
  const now = deps.clock.now();
  return deps.mfa.transaction(async (store) => {
    if (!(await store.isEnabled(check.userId))) throw new MfaNotEnabled();
    return replaceCodes(store, check.userId, now);
  });
}

/**
 * The operator's reset for a lost device (`users mfa-reset`): two-factor off, with its recovery codes.
 * @returns the user, and whether two-factor was on.
 * @throws UserNotFound
 */
export async function resetMfa(
  deps: { readonly users: UserStore; readonly mfa: MfaStore; readonly audit: EventRecorder },
  username: string,
): Promise<{ user: User; wasEnabled: boolean }> {
  const user = await deps.users.requireUserByUsername(username);
  const wasEnabled = await deps.mfa.transaction(async (store, trx) => {
    const wasOn = await store.removeAll(user.id);
    if (wasOn) await deps.audit.recordEvent(trx, { type: "mfa.disabled", userId: user.id });
    return wasOn;
  });
  return { user, wasEnabled };
}

async function replaceCodes(store: MfaStore, userId: string, nowMs: number): Promise<string[]> {
  const codes = generateRecoveryCodes();
  await store.replaceRecoveryCodes(
    userId,
    codes.map((code) => digestRecoveryCode(normaliseRecoveryCode(code)!)),
    nowMs,
  );
  return codes;
}
