/** The check of a signed-in user's current password, counted like a login (changePassword, disableTotp, ...). */
import { IncorrectPassword } from "../errors";
import { isVerifiablePassword, MAX_PASSWORD_LENGTH } from "../passwords/password-policy";
import { type PasswordService } from "../passwords/passwords";
import { type UserCredentials } from "../users/user.entity";
import { type UserStore } from "../users/user.store";
import { settled } from "./login";
import { type LoginLimiter } from "./rate-limit";

export interface CurrentPasswordDeps {
  readonly users: UserStore;
  readonly passwords: PasswordService;
  readonly limiter: LoginLimiter;
}

export interface CurrentPasswordCheck {
  readonly userId: string;
  readonly password: string;
  /** Where the request came from: a wrong password counts toward the failed-login limit. */
  readonly clientAddress: string;
  /** Aborts when the client has gone, so a verification still waiting is dropped unhashed. */
  readonly signal?: AbortSignal;
}

/**
 * Verifies the caller's current password. A wrong one counts toward the same limit as a failed
 * login (ATTACKS P13), so a stolen access token cannot be used to guess the password behind it
 * (or to turn a second factor off) faster than login could.
 * @returns the credentials verified, with the hash they were verified against.
 * @throws RateLimited when the user's name or the client address has spent its failure budget,
 *   IncorrectPassword for a wrong password or an account without a usable one, ServerBusy or
 *   ShuttingDown when it cannot be verified now (not counted as a failure).
 */
export async function verifyCurrentPassword(
  deps: CurrentPasswordDeps,
  check: CurrentPasswordCheck,
): Promise<UserCredentials & { readonly passwordHash: string }> {
  const { users, passwords } = deps;
  const found = await users.findCredentialsById(check.userId);
  const attempt = found ? await deps.limiter.begin(found.user.username, check.clientAddress) : undefined;
  if (!found?.passwordHash || !isVerifiablePassword(check.password)) {
    const bounded = check.password.slice(0, MAX_PASSWORD_LENGTH);
    await settled(attempt, passwords.verifyDummy(bounded, { signal: check.signal }));
    await attempt?.failed();
    throw new IncorrectPassword();
  }
  const verification = await settled(attempt, passwords.verify(check.password, found.passwordHash, { signal: check.signal }));
  if (!verification.ok) {
    await attempt?.failed();
    throw new IncorrectPassword();
  }
  await attempt?.succeeded();
  return { ...found, passwordHash: found.passwordHash };
}
