/** The users store: every query on the users table, and the row-to-User conversion. */
import { randomUUID } from "node:crypto";
import { type Kysely, type Selectable } from "kysely";
import { type Database, type UsersTable } from "../db/database";
import { UserNotFound, UsernameTaken } from "../errors";
import { User, type UserCredentials } from "./user.entity";
import { usernameKey } from "./username";

export type UserRow = Selectable<UsersTable>;

export interface NewUser {
  readonly username: string;
  readonly email?: string | null;
  readonly fullName?: string | null;
  readonly passwordHash: string;
  readonly scopes: readonly string[];
  readonly disabled?: boolean;
}

const PUBLIC_COLUMNS = ["id", "username", "email", "full_name", "disabled", "scopes"] as const;

/** The only place a row becomes a User; `password_hash` stays behind. */
export function toUser(row: Pick<UserRow, (typeof PUBLIC_COLUMNS)[number]>): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    fullName: row.full_name,
    disabled: Boolean(row.disabled),
    scopes: row.scopes.split(" ").filter(Boolean),
  };
}

export class UserStore {
  /** `db` may be a Transaction: a store made inside `transaction` runs its queries there. */
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Runs `work` in one database transaction, with a store bound to it: everything it writes is
   * committed together, or nothing is (an error, or the connection lost midway, rolls back).
   */
  transaction<T>(work: (store: UserStore) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(new UserStore(trx)));
  }

  async findUserById(id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom("users").select(PUBLIC_COLUMNS).where("id", "=", id).executeTakeFirst();
    return row && toUser(row);
  }

  /** Looks a user up by username, compared case-insensitively (see usernameKey). */
  async findUserByUsername(username: string): Promise<User | undefined> {
    const key = lookupKey(username);
    if (key === undefined) return undefined;
    const row = await this.db.selectFrom("users").select(PUBLIC_COLUMNS).where("username_key", "=", key).executeTakeFirst();
    return row && toUser(row);
  }

  /** @throws UserNotFound */
  async requireUserByUsername(username: string): Promise<User> {
    const user = await this.findUserByUsername(username);
    if (!user) throw new UserNotFound(username);
    return user;
  }

  /** The user with the stored hash, for the login use case only. */
  async findCredentials(username: string): Promise<UserCredentials | undefined> {
    const key = lookupKey(username);
    if (key === undefined) return undefined;
    const row = await this.db
      .selectFrom("users")
      .select([...PUBLIC_COLUMNS, "password_hash"])
      .where("username_key", "=", key)
      .executeTakeFirst();
    return row && { user: toUser(row), passwordHash: row.password_hash };
  }

  /**
   * Inserts a user. `username` must already satisfy checkNewUsername.
   * @throws UsernameTaken when the username exists, in any case.
   */
  async createUser(input: NewUser): Promise<User> {
    const now = new Date().toISOString();
    const id = randomUUID();
    try {
      await this.db
        .insertInto("users")
        .values({
          id,
          username: input.username,
          username_key: usernameKey(input.username),
          email: input.email ?? null,
          full_name: input.fullName ?? null,
          password_hash: input.passwordHash,
          disabled: input.disabled ? 1 : 0,
          scopes: input.scopes.join(" "),
          created_at: now,
          updated_at: now,
        })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new UsernameTaken(input.username);
      throw error;
    }
    return {
      id,
      username: input.username,
      email: input.email ?? null,
      fullName: input.fullName ?? null,
      disabled: Boolean(input.disabled),
      scopes: [...input.scopes],
    };
  }

  /** @throws UserNotFound */
  async setDisabled(username: string, disabled: boolean): Promise<User> {
    const key = lookupKey(username);
    if (key === undefined) throw new UserNotFound(username);
    const result = await this.db
      .updateTable("users")
      .set({ disabled: disabled ? 1 : 0, updated_at: new Date().toISOString() })
      .where("username_key", "=", key)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw new UserNotFound(username);
    return this.requireUserByUsername(username);
  }

  async listUsers(): Promise<User[]> {
    const rows = await this.db.selectFrom("users").select(PUBLIC_COLUMNS).orderBy("username_key").execute();
    return rows.map(toUser);
  }

  async countUsers(): Promise<number> {
    const row = await this.db.selectFrom("users").select((eb) => eb.fn.countAll<number | string>().as("n")).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Replaces the hash only if it is still `expected`, so an upgrade made after a login never
   * overwrites a password changed meanwhile.
   * @returns whether the row was updated.
   */
  async replacePasswordHash(id: string, expected: string, replacement: string): Promise<boolean> {
    const result = await this.db
      .updateTable("users")
      .set({ password_hash: replacement, updated_at: new Date().toISOString() })
      .where("id", "=", id)
      .where("password_hash", "=", expected)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

/**
 * The key to look a username up by, or undefined for one no row can hold: PostgreSQL text cannot
 * store NUL and its driver fails on one, where SQLite simply finds nothing. Both now find nothing.
 */
function lookupKey(username: string): string | undefined {
  return username.includes("\0") ? undefined : usernameKey(username);
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // better-sqlite3 and pg name it differently.
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505";
}
