/** The password-change use case: check the policy, verify the current password, replace it, revoke, issue. */
import { IncorrectPassword } from "../errors";
import { checkNewPassword } from "../passwords/password-policy";
import { verifyCurrentPassword } from "./current-password";
import { type LoginDeps } from "./login";
import { revokeSessionsOfUser } from "../sessions/session.store";
import { startSession, type TokenPair } from "./refresh-tokens";

export interface ChangePasswordRequest {
  /** The caller, already checked to hold a valid token and an active account. */
  readonly userId: string;
  /** The scopes of the caller's token: the fresh pair carries these, never more. */
  readonly scopes: readonly string[];
  readonly currentPassword: string;
  readonly newPassword: string;
  /** Where the request came from: a wrong current password counts toward the failed-login limit. */
  readonly clientAddress: string;
  /** The User-Agent header, recorded on the new session. */
  readonly userAgent?: string;
  /** Aborts when the client has gone, so a verification still waiting is dropped unhashed. */
  readonly signal?: AbortSignal;
}

/**
 * Changes a password. Every earlier token of the user is revoked (its sessions, and access tokens
 * through the token version) in the same transaction as the new hash, and `password.changed` recorded.
 * @returns a fresh pair, the first of a new session.
 * @throws PasswordPolicyViolation (before any hashing), RateLimited when the user's name or the
 *   client address has spent its failure budget, IncorrectPassword for a wrong current password or
 *   one changed meanwhile, ServerBusy or ShuttingDown when the current password cannot be
 *   verified now (not counted as a failure).
 */
export async function changePassword(deps: LoginDeps, request: ChangePasswordRequest): Promise<TokenPair> {
  const { users, passwords } = deps;
  checkNewPassword(request.newPassword);
  const found = await verifyCurrentPassword(deps, { ...request, password: request.currentPassword });

  const replacement = await passwords.hash(request.newPassword);
  const userId = found.user.id;
  const expected = found.passwordHash;
  // Conditional on the hash just verified: a password changed meanwhile makes this one stale. The
  // new hash, the token version and the refresh tokens change in one transaction, or none does.
  const tokenVersion = await users.transaction(async (store, trx) => {
    const version = await store.changePassword(userId, expected, replacement);
    if (version !== undefined) {
      await revokeSessionsOfUser(trx, userId, deps.clock.now());
      const { clientAddress, userAgent } = request;
      await deps.audit.recordEvent(trx, { type: "password.changed", userId, clientAddress, userAgent });
    }
    return version;
  });
  if (tokenVersion === undefined) throw new IncorrectPassword();
  deps.logger.info({ userId: found.user.id }, "password changed: every earlier token revoked");
  const { userAgent, clientAddress } = request;
  return startSession(deps, { userId: found.user.id, scopes: request.scopes, tokenVersion, userAgent, clientAddress });
}
