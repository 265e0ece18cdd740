/** The "add a user" use case, for every door that creates an account (the CLI, sign-up, the admin API). */
import { type Transaction } from "kysely";
import { type EventClient, type EventRecorder } from "../audit/audit";
import { type Database } from "../db/database";
import { InvalidUsername, UsernameTaken } from "../errors";
import { checkNewPassword } from "../passwords/password-policy";
import { type PasswordService } from "../passwords/passwords";
import { checkUserFields, DEFAULT_SCOPES, LOOKS_LIKE_EXISTING } from "./user-fields";
import { type User } from "./user.entity";
import { type UserStore } from "./user.store";

export interface AddUserDeps {
  readonly users: UserStore;
  /** Only hashing: a door may open its password pool lazily, once a password is to be hashed. */
  readonly passwords: Pick<PasswordService, "hash">;
  /** Records `user.created` with the account, in its transaction. */
  readonly audit: EventRecorder;
  /** DEFAULT_SCOPES: the scopes of an account whose request names none (DEFAULT_SCOPES' default when absent). */
  readonly defaultScopes?: readonly string[];
}

export interface AddUserRequest {
  readonly username: string;
  readonly email?: string | null;
  readonly fullName?: string | null;
  /** A list, or space-separated as an operator types it; DEFAULT_SCOPES when absent. */
  readonly scopes?: string | readonly string[];
  readonly disabled?: boolean;
  /** Whether the address counts as proven; true unless stated (sign-up says false). */
  readonly emailVerified?: boolean;
  /**
   * The new password, asked for only once every other field has passed (a prompt, standard input,
   * or simply the value a request carried), so that nobody types a password for nothing. Absent:
   * the account has no usable password until a reset sets one (an admin's createUser without one).
   */
  readonly password?: () => Promise<string>;
  /** The event recorded with the account: `user.created` (CLI, admin API), or `user.registered` (sign-up). */
  readonly event?: "user.created" | "user.registered";
  /** Where the request came from, for the event (sign-up, the admin API). */
  readonly client?: EventClient;
  /**
   * Work that must commit with the new account or not at all (sign-up queues its verification
   * mail): run in the insert's transaction, after the hash is computed (no transaction waits on it).
   */
  readonly inTransaction?: (user: User, trx: Transaction<Database>) => Promise<void>;
}

/**
 * Adds a user: checks the fields (users/user-fields.ts), refuses a taken or look-alike username,
 * then reads the password (if any), checks it against the policy, and only then hashes it and inserts
 * (with a `user.created` event, in one transaction).
 * The unique indexes still decide when two doors race (createUser throws the same errors).
 * @returns the new account.
 * @throws InvalidUsername, InvalidEmail, InvalidFullName or InvalidScope for a field outside the
 *   rules; UsernameTaken; PasswordPolicyViolation (before anything is hashed).
 */
export async function addUser(deps: AddUserDeps, request: AddUserRequest): Promise<User> {
  const { username, email, fullName, scopes } = checkUserFields({
    username: request.username,
    email: request.email ?? null,
    fullName: request.fullName ?? null,
    scopes: request.scopes ?? deps.defaultScopes ?? DEFAULT_SCOPES,
  });
  if (await deps.users.findUserByUsername(username)) throw new UsernameTaken(username);
  if (await deps.users.findLookAlike(username)) throw new InvalidUsername(LOOKS_LIKE_EXISTING);

  const passwordHash = request.password ? await chosenPasswordHash(deps, await request.password()) : null;
  const newUser = {
    username,
    email,
    fullName,
    passwordHash,
    scopes: scopes ?? [],
    disabled: request.disabled === true,
    emailVerified: request.emailVerified !== false,
  };
  return deps.users.transaction(async (users, trx) => {
    const user = await users.createUser(newUser);
    await deps.audit.recordEvent(trx, { type: request.event ?? "user.created", userId: user.id, ...request.client });
    await request.inTransaction?.(user, trx);
    return user;
  });
}

/** The policy first (CONTRACT section 10, the blocklist included), so a refused password is never hashed. */
async function chosenPasswordHash(deps: AddUserDeps, password: string): Promise<string> {
  checkNewPassword(password);
  return deps.passwords.hash(password);
}
