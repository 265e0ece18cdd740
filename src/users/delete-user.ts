/** The "delete a user" use case, for every door that deletes an account (`users delete`, the admin's deleteUser). */
import { type User } from "./user.entity";
import { type UserStore } from "./user.store";

export interface DeleteUserDeps {
  readonly users: UserStore;
}

/**
 * Deletes an account, in one transaction (where its `user.deleted` event is to be recorded). Its
 * sessions and refresh tokens are deleted with it by their foreign keys, so every refresh token
 * of it is unknown at once, and each access token meets "Could not validate credentials" at its
 * next request: the per-request lookup finds no user.
 * @returns the account as it was.
 * @throws UserNotFound
 */
export function deleteUser(deps: DeleteUserDeps, username: string): Promise<User> {
  return deps.users.transaction((users) => users.deleteUser(username));
}
