/** The "unlock a user" use case (`users unlock`, the admin's unlockUser): the username's failed logins forgiven. */
import { type User } from "../users/user.entity";
import { type UserStore } from "../users/user.store";
import { type LoginLimiter } from "./rate-limit";

export interface UnlockDeps {
  readonly users: UserStore;
  readonly limiter: Pick<LoginLimiter, "clearUsername">;
}

/**
 * Clears the failed-login count of an existing account's username in the shared counters, so its
 * next login is verified at once instead of answered RATE_LIMITED. The client address's count is
 * left alone: an address that tried many usernames stays limited.
 * @returns the account.
 * @throws UserNotFound
 */
export async function unlockUser(deps: UnlockDeps, username: string): Promise<User> {
  const user = await deps.users.requireUserByUsername(username);
  await deps.limiter.clearUsername(user.username);
  return user;
}
