/**
 * The admin's account use cases: each finds the account by id, applies the one rule of its own
 * (an admin cannot lock themselves out), and hands over to the use case every door shares.
 */
import { type EventRecorder } from "../audit/audit";
import { type Clock } from "../clock";
import { endEverySessionOfUser, setUserDisabled } from "../auth/user-revocation";
import { unlockUser, type UnlockDeps } from "../auth/unlock-user";
import { resetMfa } from "../mfa/enrolment";
import { type MfaStore } from "../mfa/mfa.store";
import { OwnAccountRefused, UnknownUser, UserNotFound } from "../errors";
import { type PasswordService } from "../passwords/passwords";
import { addUser } from "../users/add-user";
import { deleteUser } from "../users/delete-user";
import { checkEmail, checkFullName, checkScopes } from "../users/user-fields";
import { type User } from "../users/user.entity";
import { type ProfileChanges, type UserStore } from "../users/user.store";

export interface AdminDeps {
  readonly users: UserStore;
  readonly passwords: Pick<PasswordService, "hash">;
  readonly clock: Clock;
  readonly limiter: UnlockDeps["limiter"];
  readonly audit: EventRecorder;
  /** Two-factor enrolments, for resetUserMfa (the `users mfa-reset` use case). */
  readonly mfa: MfaStore;
}

/** The scope that opens the admin API; an admin may not drop it from their own account. */
export const ADMIN_SCOPE = "admin";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface NewAccount {
  readonly username: string;
  readonly email?: string | null;
  readonly fullName?: string | null;
  readonly password?: string | null;
  readonly scopes?: readonly string[] | null;
  readonly disabled?: boolean | null;
}

/** Absent fields are kept; `email` and `fullName` null clear them; `scopes` and `disabled` null are absent. */
export interface AccountChanges {
  readonly email?: string | null;
  readonly fullName?: string | null;
  readonly scopes?: readonly string[] | null;
  readonly disabled?: boolean | null;
}

/** The account with this id, or undefined (a malformed id included: ids are UUIDs). */
export function findUser(deps: Pick<AdminDeps, "users">, id: string): Promise<User | undefined> {
  return UUID.test(id) ? deps.users.findUserById(id.toLowerCase()) : Promise.resolve(undefined);
}

/**
 * Creates an account through the add-user use case (the same field rules and password policy as
 * `users add`, the blocklist included). Without a password it has no usable one until a reset.
 * @throws what addUser throws.
 */
export function createAccount(deps: AdminDeps, account: NewAccount): Promise<User> {
  const { password } = account;
  return addUser(deps, {
    username: account.username,
    email: account.email,
    fullName: account.fullName,
    scopes: account.scopes ?? undefined,
    disabled: account.disabled === true,
    password: password === undefined || password === null ? undefined : () => Promise.resolve(password),
  });
}

/**
 * Changes an account's email, full name and scopes (by the rules of users/user-fields.ts), then
 * disables or enables it through setUserDisabled, so disabling ends its sessions' refreshing.
 * Every field is checked before anything is written.
 * @throws UnknownUser; OwnAccountRefused when `adminId` would disable itself or drop `admin`;
 *   InvalidEmail, InvalidFullName or InvalidScope.
 */
export async function updateAccount(deps: AdminDeps, adminId: string, id: string, changes: AccountChanges) {
  const user = await requireUser(deps, id);
  const scopes = changes.scopes === undefined || changes.scopes === null ? undefined : checkScopes(changes.scopes);
  if (user.id === adminId && (changes.disabled === true || (scopes !== undefined && !scopes.includes(ADMIN_SCOPE)))) {
    throw new OwnAccountRefused();
  }
  const profile: ProfileChanges = {
    ...(changes.email !== undefined && { email: changes.email === null ? null : checkEmail(changes.email) }),
    ...(changes.fullName !== undefined && {
      fullName: changes.fullName === null ? null : checkFullName(changes.fullName),
    }),
    ...(scopes !== undefined && { scopes }),
  };
  let updated = user;
  if (Object.keys(profile).length > 0) {
    updated = await deps.users.transaction(async (users, trx) => {
      const changed = (await users.updateProfile(user.id, profile)) ?? unknown();
      await deps.audit.recordEvent(trx, { type: "user.updated", userId: user.id });
      return changed;
    });
  }
  // Only a change: disabling a disabled account again has nothing to end.
  if (typeof changes.disabled === "boolean" && changes.disabled !== updated.disabled) {
    updated = await setUserDisabled(deps, user.username, changes.disabled).catch(goneMeanwhile);
  }
  return updated;
}

/**
 * Deletes an account through the delete-user use case: its tokens then meet "Could not validate
 * credentials", its refresh tokens "Invalid refresh token".
 * @throws UnknownUser; OwnAccountRefused for the admin's own account.
 */
export async function deleteAccount(deps: AdminDeps, adminId: string, id: string): Promise<void> {
  const user = await requireUser(deps, id);
  if (user.id === adminId) throw new OwnAccountRefused();
  await deleteUser(deps, user.username).catch(goneMeanwhile);
}

/**
 * Ends every session of an account and every access token issued so far (a logout everywhere).
 * @returns how many live sessions were ended.
 * @throws UnknownUser
 */
export async function revokeAccountSessions(deps: AdminDeps, id: string): Promise<number> {
  const user = await requireUser(deps, id);
  return (await endEverySessionOfUser(deps, user.id))?.sessionsEnded ?? unknown();
}

/**
 * Clears the account's username from the failed-login counters (the `users unlock` use case).
 * @throws UnknownUser
 */
export async function unlockAccount(deps: AdminDeps, id: string): Promise<void> {
  const user = await requireUser(deps, id);
  await unlockUser(deps, user.username).catch(goneMeanwhile);
}

/**
 * Turns two-factor authentication off for the account, its recovery codes too (the
 * `users mfa-reset` use case, for a user who lost the device); nothing changes when it was off.
 * @throws UnknownUser
 */
export async function resetAccountMfa(deps: AdminDeps, id: string): Promise<void> {
  const user = await requireUser(deps, id);
  await resetMfa(deps, user.username).catch(goneMeanwhile);
}

async function requireUser(deps: AdminDeps, id: string): Promise<User> {
  return (await findUser(deps, id)) ?? unknown();
}

function unknown(): never {
  throw new UnknownUser();
}

/** The shared use cases name an account by username: one deleted since it was found is still unknown. */
function goneMeanwhile(error: unknown): never {
  throw error instanceof UserNotFound ? new UnknownUser() : error;
}
