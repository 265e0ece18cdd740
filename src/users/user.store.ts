/** The users store: every query on the users table, and the row-to-User conversion. */
import { randomUUID } from "node:crypto";
import { sql, type Kysely, type Selectable, type Transaction } from "kysely";
import { systemClock, type Clock } from "../clock";
import { type Database, type UsersTable } from "../db/database";
import { KyselyTokenSubjectReader, type TokenSubjectReader } from "../db/token-subjects";
import { InvalidUsername, UserNotFound, UsernameTaken } from "../errors";
import { checkUserFields, LOOKS_LIKE_EXISTING, skeletonKey, usernameKey } from "./user-fields";
import { User, type TokenSubject, type UserCredentials } from "./user.entity";

export type UserRow = Selectable<UsersTable>;

export interface NewUser {
  readonly username: string;
  readonly email?: string | null;
  readonly fullName?: string | null;
  /** null: no usable password (login fails after the dummy work) until one is set by a reset. */
  readonly passwordHash: string | null;
  readonly scopes: readonly string[];
  readonly disabled?: boolean;
  /** Whether the address is taken as proven; true unless stated (only sign-up says false). */
  readonly emailVerified?: boolean;
}

/** What an update changes: each field absent (kept), null (cleared, email and full name) or given. */
export interface ProfileChanges {
  readonly email?: string | null;
  readonly fullName?: string | null;
  readonly scopes?: readonly string[];
}

/** A page of users in username order: those after `afterKey` (a username_key), at most `limit`. */
export interface UserPageQuery {
  readonly afterKey?: string;
  readonly limit: number;
  /** Part of the username or email, already lower-cased; matched with LIKE, its wildcards escaped. */
  readonly search?: string;
}

const PUBLIC_COLUMNS = ["id", "username", "email", "full_name", "disabled", "scopes", "email_verified"] as const;
/** Rows per page when the calibration reads the stored hashes. */
const HASH_PAGE_ROWS = 1_000;

/** The only place a row becomes a User; `password_hash` stays behind. */
export function toUser(row: Pick<UserRow, (typeof PUBLIC_COLUMNS)[number]>): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    fullName: row.full_name,
    disabled: Boolean(row.disabled),
    scopes: row.scopes.split(" ").filter(Boolean),
    emailVerified: Boolean(row.email_verified),
  };
}

export class UserStore {
  /**
   * `db` may be a Transaction: a store made inside `transaction` runs its queries there.
   * `subjects`: the per-request lookup of the database (DatabaseHandle.tokenSubjects); never given
   * inside a transaction, whose own writes a reader on another connection would not see. Without
   * it the lookup runs through `db`.
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock = systemClock,
    private readonly subjects: TokenSubjectReader = new KyselyTokenSubjectReader(db),
  ) {}

  /**
   * Runs `work` in one database transaction, with a store bound to it and the transaction itself,
   * which a use case passes to the other stores it writes through (a store touches only its own
   * tables): everything written is committed together, or nothing is (an error, or the connection
   * lost midway, rolls back).
   */
  transaction<T>(work: (store: UserStore, trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(new UserStore(trx, this.clock), trx));
  }

  async findUserById(id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom("users").select(PUBLIC_COLUMNS).where("id", "=", id).executeTakeFirst();
    return row && toUser(row);
  }

  /**
   * The user with its token version and, given `sessionId`, whether that session of the user is
   * live (exists, not ended, not expired): the one query each authenticated request makes.
   */
  async findTokenSubject(id: string, sessionId?: string): Promise<TokenSubject | undefined> {
    const row = await this.subjects.read(id, sessionId ?? null);
    if (!row) return undefined;
    const subject = { user: toUser(row), tokenVersion: Number(row.token_version) };
    if (sessionId === undefined) return subject;
    const live = row.session_id !== null && row.session_revoked_at === null && Number(row.session_expires_at) > this.clock.now();
    return { ...subject, sessionLive: live };
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
      .select([...PUBLIC_COLUMNS, "password_hash", "token_version"])
      .where("username_key", "=", key)
      .executeTakeFirst();
    return row && { user: toUser(row), passwordHash: row.password_hash, tokenVersion: Number(row.token_version) };
  }

  /** The user with the stored hash, by id, for the password-change use case only. */
  async findCredentialsById(id: string): Promise<UserCredentials | undefined> {
    const row = await this.db
      .selectFrom("users")
      .select([...PUBLIC_COLUMNS, "password_hash", "token_version"])
      .where("id", "=", id)
      .executeTakeFirst();
    return row && { user: toUser(row), passwordHash: row.password_hash, tokenVersion: Number(row.token_version) };
  }

  /**
   * The account whose username looks like `username` (the same skeletonKey, UTS #39), if any: the
   * same account in another case or form, or a look-alike such as `јohndoe` of `johndoe`.
   */
  async findLookAlike(username: string): Promise<User | undefined> {
    if (username.includes("\0")) return undefined;
    const row = await this.db
      .selectFrom("users")
      .select(PUBLIC_COLUMNS)
      .where("skeleton_key", "=", skeletonKey(username))
      .executeTakeFirst();
    return row && toUser(row);
  }

  /**
   * Inserts a user, after checking its fields by the rules every door shares (users/user-fields.ts).
   * Whether the username is taken, or looks like one that is, is decided by the unique indexes on
   * username_key and skeleton_key, so two processes racing cannot both win; the query before the
   * insert only picks the clearer error when both apply.
   * @throws InvalidUsername, InvalidEmail, InvalidFullName or InvalidScope for a field outside the rules;
   *   UsernameTaken when the username exists, in any case; InvalidUsername when it looks like an
   *   existing account's (the same confusable skeleton).
   */
  async createUser(input: NewUser): Promise<User> {
    const fields = checkUserFields(input);
    const scopes = fields.scopes ?? [];
    const now = new Date(this.clock.now()).toISOString();
    const id = randomUUID();
    const clash = await this.db
      .selectFrom("users")
      .select("username_key")
      .where((eb) => eb.or([eb("username_key", "=", fields.usernameKey), eb("skeleton_key", "=", fields.skeletonKey)]))
      .execute();
    if (clash.some((row) => row.username_key === fields.usernameKey)) throw new UsernameTaken(fields.username);
    if (clash.length > 0) throw new InvalidUsername(LOOKS_LIKE_EXISTING);
    try {
      await this.db
        .insertInto("users")
        .values({
          id,
          username: fields.username,
          username_key: fields.usernameKey,
          skeleton_key: fields.skeletonKey,
          email: fields.email ?? null,
          full_name: fields.fullName ?? null,
          password_hash: input.passwordHash,
          disabled: input.disabled ? 1 : 0,
          scopes: scopes.join(" "),
          email_verified: input.emailVerified === false ? 0 : 1,
          created_at: now,
          updated_at: now,
        })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error))
        throw namesSkeletonKey(error) ? new InvalidUsername(LOOKS_LIKE_EXISTING) : new UsernameTaken(fields.username);
      throw error;
    }
    return {
      id,
      username: fields.username,
      email: fields.email ?? null,
      fullName: fields.fullName ?? null,
      disabled: Boolean(input.disabled),
      scopes,
      emailVerified: input.emailVerified !== false,
    };
  }

  /**
   * The active accounts whose address is `email`, compared case-insensitively (lower() on both
   * sides, over the index users_email_lower_idx), with their stored hashes: a reset is bound to one.
   */
  async findActiveCredentialsByEmail(email: string): Promise<UserCredentials[]> {
    if (email.includes("\0")) return [];
    const rows = await this.db
      .selectFrom("users")
      .select([...PUBLIC_COLUMNS, "password_hash", "token_version"])
      .where(sql<string>`lower(email)`, "=", sql<string>`lower(${email})`)
      .where("disabled", "=", 0)
      .orderBy("id")
      .execute();
    return rows.map((row) => ({
      user: toUser(row),
      passwordHash: row.password_hash,
      tokenVersion: Number(row.token_version),
    }));
  }

  /**
   * Marks the account's address verified, if it is still `email` (a link mailed to an old address
   * proves nothing about a new one).
   * @returns whether the row was updated.
   */
  async markEmailVerified(id: string, email: string): Promise<boolean> {
    const result = await this.db
      .updateTable("users")
      .set({ email_verified: 1, updated_at: new Date(this.clock.now()).toISOString() })
      .where("id", "=", id)
      .where("email", "=", email)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * A password reset's one write: the new hash, if the stored one is still `expected` (null: the
   * account had no usable password), the address marked verified (the link proved it), and the
   * token version moved past every access token issued so far.
   * @returns the new token version, or undefined when the hash changed meanwhile (nothing written).
   */
  async resetPassword(id: string, expected: string | null, replacement: string): Promise<number | undefined> {
    const now = this.clock.now();
    const row = await this.db
      .updateTable("users")
      .set({
        password_hash: replacement,
        email_verified: 1,
        token_version: nextTokenVersion(now),
        updated_at: new Date(now).toISOString(),
      })
      .where("id", "=", id)
      .where("password_hash", expected === null ? "is" : "=", expected)
      .returning("token_version")
      .executeTakeFirst();
    return row && Number(row.token_version);
  }

  /**
   * Disables or enables an account, and nothing else: ending its logins too is the use case's job
   * (auth/user-revocation.ts), in the same transaction.
   * @returns the account as it now is.
   * @throws UserNotFound
   */
  async setDisabled(username: string, disabled: boolean): Promise<User> {
    const key = lookupKey(username);
    if (key === undefined) throw new UserNotFound(username);
    const row = await this.db
      .updateTable("users")
      .set({ disabled: disabled ? 1 : 0, updated_at: new Date(this.clock.now()).toISOString() })
      .where("username_key", "=", key)
      .returning(PUBLIC_COLUMNS)
      .executeTakeFirst();
    if (!row) throw new UserNotFound(username);
    return toUser(row);
  }

  /**
   * Changes an account's e-mail address, full name or scopes, already checked by the rules of
   * users/user-fields.ts (the use case's job); the other columns stay.
   * @returns the account as it now is, or undefined for an unknown id.
   */
  async updateProfile(id: string, changes: ProfileChanges): Promise<User | undefined> {
    const row = await this.db
      .updateTable("users")
      .set({
        // A new address is unverified (CONTRACT section 12); the same address keeps its state.
        ...(changes.email !== undefined && {
          email: changes.email,
          email_verified:
            changes.email === null
              ? sql<number>`email_verified`
              : sql<number>`case when email = ${changes.email} then email_verified else ${0} end`,
        }),
        ...(changes.fullName !== undefined && { full_name: changes.fullName }),
        ...(changes.scopes !== undefined && { scopes: changes.scopes.join(" ") }),
        updated_at: new Date(this.clock.now()).toISOString(),
      })
      .where("id", "=", id)
      .returning(PUBLIC_COLUMNS)
      .executeTakeFirst();
    return row && toUser(row);
  }

  /**
   * Deletes an account. Its sessions and refresh tokens go with it (their foreign keys cascade),
   * and the per-request lookup then finds no user for its access tokens.
   * @returns the account as it was.
   * @throws UserNotFound
   */
  async deleteUser(username: string): Promise<User> {
    const key = lookupKey(username);
    if (key === undefined) throw new UserNotFound(username);
    const row = await this.db.deleteFrom("users").where("username_key", "=", key).returning(PUBLIC_COLUMNS).executeTakeFirst();
    if (!row) throw new UserNotFound(username);
    return toUser(row);
  }

  /**
   * One page of users ordered by username_key (unique, so the order is total and a page starts
   * strictly after the last key of the one before: rows inserted meanwhile shift nothing), and
   * how many match the search in all.
   */
  async pageUsers(query: UserPageQuery): Promise<{ users: User[]; keys: string[]; total: number }> {
    let select = this.db.selectFrom("users");
    if (query.search !== undefined && query.search !== "") {
      // "!" escapes LIKE's wildcards (and itself), so `_` and `%` in a search are plain characters.
      const pattern = `%${query.search.replace(/[!%_]/g, "!$&")}%`;
      select = select.where((eb) =>
        eb.or([
          eb(sql<string>`username_key`, "like", sql<string>`${pattern} escape '!'`),
          eb(sql<string>`lower(email)`, "like", sql<string>`${pattern} escape '!'`),
        ]),
      );
    }
    const count = await select.select((eb) => eb.fn.countAll<number | string>().as("n")).executeTakeFirstOrThrow();
    let page = select.select([...PUBLIC_COLUMNS, "username_key"]);
    if (query.afterKey !== undefined) page = page.where("username_key", ">", query.afterKey);
    const rows = await page.orderBy("username_key").limit(query.limit).execute();
    return { users: rows.map(toUser), keys: rows.map((row) => row.username_key), total: Number(count.n) };
  }

  /**
   * Moves the token version past every access token issued so far (refresh tokens are the use
   * case's, auth/user-revocation.ts, in the same transaction).
   * @returns the new token version, or undefined for an unknown user.
   */
  advanceTokenVersion(id: string): Promise<number | undefined> {
    return this.moveTokenVersion(id);
  }

  /**
   * Replaces the password hash, if it is still `expected`, and moves the token version past every
   * earlier access token, in one statement (the password-change use case revokes the refresh
   * tokens in the same transaction).
   * @returns the new token version, or undefined when the hash changed meanwhile (nothing written).
   */
  changePassword(id: string, expected: string, replacement: string): Promise<number | undefined> {
    return this.moveTokenVersion(id, { expected, replacement });
  }

  /** The one write behind both: token version, and optionally the hash. */
  private async moveTokenVersion(id: string, hash?: { expected: string; replacement: string }): Promise<number | undefined> {
    const now = this.clock.now();
    let update = this.db
      .updateTable("users")
      .set({ token_version: nextTokenVersion(now), updated_at: new Date(now).toISOString() })
      .where("id", "=", id);
    if (hash) update = update.set({ password_hash: hash.replacement }).where("password_hash", "=", hash.expected);
    const row = await update.returning("token_version").executeTakeFirst();
    return row && Number(row.token_version);
  }

  /**
   * The stored password hashes, read page by page in id order (bounded memory), at most `maxRows`
   * of them: the samples the equal-timing floor is calibrated on (passwords/timing-calibration.ts).
   * Stopping the iteration early reads no further page.
   */
  async *storedPasswordHashes(maxRows: number): AsyncGenerator<string> {
    let after = "";
    for (let scanned = 0; scanned < maxRows; scanned += HASH_PAGE_ROWS) {
      const rows = await this.db
        .selectFrom("users")
        .select(["id", "password_hash"])
        .where("id", ">", after)
        .where("password_hash", "is not", null)
        .orderBy("id")
        .limit(Math.min(HASH_PAGE_ROWS, maxRows - scanned))
        .execute();
      for (const row of rows) if (row.password_hash) yield row.password_hash;
      if (rows.length < HASH_PAGE_ROWS) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  async listUsers(): Promise<User[]> {
    const rows = await this.db.selectFrom("users").select(PUBLIC_COLUMNS).orderBy("username_key").execute();
    return rows.map(toUser);
  }

  async countUsers(): Promise<number> {
    const row = await this.db
      .selectFrom("users")
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .executeTakeFirstOrThrow();
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
      .set({ password_hash: replacement, updated_at: new Date(this.clock.now()).toISOString() })
      .where("id", "=", id)
      .where("password_hash", "=", expected)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}

/**
 * The token version after a revocation: now in epoch milliseconds, or one past the current value
 * when that is already later (another instance's clock ahead of ours), so it only ever grows.
 * Computed in the UPDATE itself, so two revocations at once cannot lose one.
 */
function nextTokenVersion(nowMs: number) {
  return sql<number>`case when token_version >= ${nowMs} then token_version + 1 else ${nowMs} end`;
}

/**
 * The key to look a username up by, or undefined for one no row can hold: PostgreSQL text cannot
 * store NUL and its driver fails on one, where SQLite simply finds nothing. Both now find nothing.
 */
function lookupKey(username: string): string | undefined {
  return username.includes("\0") ? undefined : usernameKey(username);
}

/** Whether a unique violation is the look-alike index's (SQLite names the column, PostgreSQL the index). */
function namesSkeletonKey(error: unknown): boolean {
  const { message, constraint } = error as { message?: unknown; constraint?: unknown };
  return [message, constraint].some((text) => typeof text === "string" && text.includes("skeleton_key"));
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // better-sqlite3 and pg name it differently.
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505";
}
