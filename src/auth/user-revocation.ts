/** The use cases that end every login of a user: revoke all its tokens, and disable (or enable) the account. */
import { type EventRecorder } from "../audit/audit";
import { type Clock } from "../clock";
import { type User } from "../users/user.entity";
import { type UserStore } from "../users/user.store";
import { endRefreshingOfUser, revokeSessionsOfUser } from "../sessions/session.store";

export interface RevocationDeps {
  readonly users: UserStore;
  readonly clock: Clock;
  readonly audit: EventRecorder;
}

/**
 * Revokes every token of a user: moves the token version past every access token issued so far
 * and revokes every refresh token, in one transaction.
 * @returns the new token version, or undefined for an unknown user (nothing written).
 */
export async function revokeAllTokensOfUser(deps: RevocationDeps, userId: string): Promise<number | undefined> {
  return (await endEverySessionOfUser(deps, userId))?.tokenVersion;
}

/**
 * revokeAllTokensOfUser, answering how many sessions it ended (an admin's revokeUserSessions):
 * every access token dies at its next request, with or without `sid`.
 * @returns the new token version and the number of live sessions ended, or undefined for an
 *   unknown user (nothing written).
 */
export function endEverySessionOfUser(
  deps: RevocationDeps,
  userId: string,
): Promise<{ tokenVersion: number; sessionsEnded: number } | undefined> {
  return deps.users.transaction(async (users, trx) => {
    const tokenVersion = await users.advanceTokenVersion(userId);
    if (tokenVersion === undefined) return undefined;
    const sessionsEnded = await revokeSessionsOfUser(trx, userId, deps.clock.now());
    return { tokenVersion, sessionsEnded };
  });
}

/**
 * Disables or enables an account. Disabling also revokes its refresh tokens in the same
 * transaction (CONTRACT section 4), so no door can forget to; its access tokens then meet
 * `Inactive user` on every field that needs an active account. Enabling brings no old login back.
 * Records `user.disabled` or `user.enabled` in the same transaction.
 * @returns the account as it now is.
 * @throws UserNotFound
 */
export function setUserDisabled(deps: RevocationDeps, username: string, disabled: boolean): Promise<User> {
  return deps.users.transaction(async (users, trx) => {
    const user = await users.setDisabled(username, disabled);
    if (disabled) await endRefreshingOfUser(trx, user.id, deps.clock.now());
    await deps.audit.recordEvent(trx, { type: disabled ? "user.disabled" : "user.enabled", userId: user.id });
    return user;
  });
}
