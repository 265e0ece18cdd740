/** The "delete a user" use case, for every door that deletes an account (`users delete`, the admin's deleteUser). */
import { type EventRecorder } from "../audit/audit";
import { type User } from "./user.entity";
import { type UserStore } from "./user.store";

export interface DeleteUserDeps {
  readonly users: UserStore;
  /** Records `user.deleted` in the deletion's transaction. */
  readonly audit: EventRecorder;
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
  return deps.users.transaction(async (users, trx) => {
    const user = await users.deleteUser(username);
    await deps.audit.recordEvent(trx, { type: "user.deleted", userId: user.id });
    return user;
  });
}
