/** The "add a user" use case, for every door that creates an account (the CLI, sign-up; later the admin API). */
import { type Transaction } from "kysely";
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
   * or simply the value a request carried), so that nobody types a password for nothing.
   */
  readonly password: () => Promise<string>;
  /**
   * Work that must commit with the new account or not at all (sign-up queues its verification
   * mail): run in the insert's transaction, after the hash is computed (no transaction waits on it).
   */
  readonly inTransaction?: (user: User, trx: Transaction<Database>) => Promise<void>;
}

/**
 * Adds a user: checks the fields (users/user-fields.ts), refuses a taken or look-alike username,
 * then reads the password, checks it against the policy, and only then hashes it and inserts.
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

  const password = await request.password();
  checkNewPassword(password);
  const passwordHash = await deps.passwords.hash(password);
  const newUser = {
    username,
    email,
    fullName,
    passwordHash,
    scopes: scopes ?? [],
    disabled: request.disabled === true,
    emailVerified: request.emailVerified !== false,
  };
  const { inTransaction } = request;
  if (!inTransaction) return deps.users.createUser(newUser);
  return deps.users.transaction(async (users, trx) => {
    const user = await users.createUser(newUser);
    await inTransaction(user, trx);
    return user;
  });
}
