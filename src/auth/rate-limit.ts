/** Failed-login counters in the shared database: per username and per client address, one per attempt. */
import { createHash } from "node:crypto";
import { isIPv6 } from "node:net";
import { sql, type Kysely } from "kysely";
import { type Clock } from "../clock";
import { type Database } from "../db/database";
import { RateLimited } from "../errors";
import { usernameKey } from "../users/user-fields";

/** CONTRACT section 7: LOGIN_MAX_FAILURES per username per 15 minutes. */
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
/**
 * A client address may fail this many times the username budget: an office or a carrier NAT puts
 * many honest users behind one address, while one address trying many usernames still trips it.
 */
export const ADDRESS_BUDGET_FACTOR = 10;
/**
 * An attempt counts as pending until it is known to have failed; once every pending attempt of a
 * key is this old, they are taken as abandoned (the process verifying them was killed) and stop
 * counting. Longer than any login can last: a verification waits at most MAX_QUEUE_WAIT_MS (30 s)
 * for its slot, and no stored hash within bounds computes for more than a few seconds.
 */
export const PENDING_ATTEMPT_MS = 2 * 60 * 1000;
/** How often one instance deletes expired windows, so the table never needs an operator's job. */
const SWEEP_INTERVAL_MS = 60 * 1000;
/** Longer identities are stored as a digest, so hostile input cannot grow a row. */
const MAX_READABLE_KEY = 150;

export interface LoginLimitPolicy {
  readonly maxFailures: number;
  readonly addressMaxFailures: number;
  readonly windowMs: number;
}

/** The policy for a LOGIN_MAX_FAILURES value: the address budget is ADDRESS_BUDGET_FACTOR times it. */
export function loginLimitPolicy(maxFailures: number): LoginLimitPolicy {
  return { maxFailures, addressMaxFailures: maxFailures * ADDRESS_BUDGET_FACTOR, windowMs: LOGIN_WINDOW_MS };
}

/** One counted attempt, handed back so that its outcome settles it. */
export interface LoginAttempt {
  /** The password was right: the username's count starts again and the address regains this attempt. */
  succeeded(): Promise<void>;
  /** The password was wrong: the attempt stops being pending and counts for the whole window. */
  failed(): Promise<void>;
  /** The password was never verified (server busy, client gone, shutting down): both budgets regain it. */
  abandoned(): Promise<void>;
}

/**
 * Counts password attempts in the `login_attempts` table, which every instance sharing the database
 * sees. Each attempt is counted *before* the password is verified, with one atomic upsert, so
 * concurrent attempts (a batch, aliases, several instances) can never slip past the budget together.
 * It is counted as pending as well, until its outcome is known: an attempt whose process died
 * never settles, and once every pending attempt of a key is PENDING_ATTEMPT_MS old, the next
 * attempt's upsert takes them off the count.
 */
export class LoginLimiter {
  private lastSweep = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly policy: LoginLimitPolicy,
    private readonly clock: Clock,
  ) {}

  /**
   * Counts one attempt against `username` (known or not: the key is the normalised username either
   * way, so the limit says nothing about which accounts exist) and against `clientAddress`.
   * Call it before verifying the password; call `succeeded()` on the result when it was right.
   * @throws RateLimited when either budget is spent for the current window, even if the password
   *   would have been right; `retryAfter` is when the longer of the spent windows ends.
   */
  async begin(username: string, clientAddress: string): Promise<LoginAttempt> {
    const now = this.clock.now();
    await this.sweep(now);
    const userKey = counterKey("user", usernameKey(username));
    const addressKey = counterKey("addr", addressBucket(clientAddress));
    const resetAt = now + this.policy.windowMs;
    const pendingUntil = now + PENDING_ATTEMPT_MS;
    // One statement for both counters: a window that has ended starts again at 1, otherwise the
    // count goes up, less the pending attempts that have all outlived PENDING_ATTEMPT_MS. INSERT ...
    // ON CONFLICT DO UPDATE ... RETURNING is atomic on SQLite and PostgreSQL alike, so no increment
    // is lost under concurrency, and the SET expressions all read the row as it was. Rows are always
    // in the same order (username, then address), so two PostgreSQL statements cannot deadlock.
    const rows = await this.db
      .insertInto("login_attempts")
      .values([
        { key: userKey, attempts: 1, reset_at: resetAt, pending: 1, pending_until: pendingUntil },
        { key: addressKey, attempts: 1, reset_at: resetAt, pending: 1, pending_until: pendingUntil },
      ])
      .onConflict((conflict) =>
        conflict.column("key").doUpdateSet({
          attempts: sql<number>`case when login_attempts.reset_at <= ${now} then 1
            when login_attempts.pending_until <= ${now} then login_attempts.attempts - login_attempts.pending + 1
            else login_attempts.attempts + 1 end`,
          pending: sql<number>`case when login_attempts.reset_at <= ${now} or login_attempts.pending_until <= ${now} then 1
            else login_attempts.pending + 1 end`,
          pending_until: sql<number>`excluded.pending_until`,
          reset_at: sql<number>`case when login_attempts.reset_at <= ${now} then excluded.reset_at else login_attempts.reset_at end`,
        }),
      )
      .returning(["key", "attempts", "reset_at"])
      .execute();

    let retryAfterMs = 0;
    for (const row of rows) {
      const budget = row.key === userKey ? this.policy.maxFailures : this.policy.addressMaxFailures;
      if (Number(row.attempts) > budget) retryAfterMs = Math.max(retryAfterMs, Number(row.reset_at) - now);
    }
    if (retryAfterMs > 0) {
      // Refused before any verification: nothing is pending for this one.
      await this.settle([userKey, addressKey], { giveBack: false });
      throw new RateLimited(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    }
    return {
      succeeded: () => this.forgive(userKey, addressKey),
      failed: () => this.settle([userKey, addressKey], { giveBack: false }),
      abandoned: () => this.settle([userKey, addressKey], { giveBack: true }),
    };
  }

  /**
   * Clears the username's failed-login count (a password reset proved who the owner is, or an
   * operator unlocked it), so the right password works at once. The address's count is left alone.
   */
  async clearUsername(username: string): Promise<void> {
    await this.db
      .deleteFrom("login_attempts")
      .where("key", "=", counterKey("user", usernameKey(username)))
      .execute();
  }

  private async forgive(userKey: string, addressKey: string): Promise<void> {
    await this.db.deleteFrom("login_attempts").where("key", "=", userKey).execute();
    await this.settle([addressKey], { giveBack: true });
  }

  /** Takes one attempt off the pending count of each key, and off the count too with `giveBack`. */
  private async settle(keys: readonly string[], { giveBack }: { giveBack: boolean }): Promise<void> {
    const now = this.clock.now();
    await this.db
      .updateTable("login_attempts")
      .set({
        pending: sql<number>`case when pending > 0 then pending - 1 else 0 end`,
        ...(giveBack && { attempts: sql<number>`case when attempts > 0 then attempts - 1 else 0 end` }),
      })
      .where("key", "in", [...keys])
      .where("reset_at", ">", now)
      .execute();
  }

  /** Deletes ended windows, at most once a minute per instance; an index on reset_at keeps it cheap. */
  private async sweep(now: number): Promise<void> {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    await this.db.deleteFrom("login_attempts").where("reset_at", "<=", now).execute();
  }
}

/** One kind of call counted per identity (a client address, an e-mail address): its budget and window. */
export interface ActionBudget {
  /** The counter's kind, part of its key: `register`, `reset`, `reset-mail`, ... */
  readonly action: string;
  readonly max: number;
  readonly windowMs: number;
}

/**
 * Counts calls other than logins (the account mutations) in the same `login_attempts` table, so
 * the limits hold across every instance sharing the database: one atomic upsert per call, the
 * window starting at the first call and ending `windowMs` later. Swept with the login counters.
 */
export class ActionLimiter {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /**
   * Counts one call of `budget.action` by `identity` (a client address is bucketed as logins are).
   * @returns 0 while within the budget, else the whole seconds until the window ends (at least 1).
   */
  async count(budget: ActionBudget, identity: string, kind: "addr" | "id" = "addr"): Promise<number> {
    const now = this.clock.now();
    const key = counterKey(`${budget.action}:${kind}`, kind === "addr" ? addressBucket(identity) : identity);
    const row = await this.db
      .insertInto("login_attempts")
      .values({ key, attempts: 1, reset_at: now + budget.windowMs })
      .onConflict((conflict) =>
        conflict.column("key").doUpdateSet({
          attempts: sql<number>`case when login_attempts.reset_at <= ${now} then 1
            else login_attempts.attempts + 1 end`,
          reset_at: sql<number>`case when login_attempts.reset_at <= ${now} then excluded.reset_at
            else login_attempts.reset_at end`,
        }),
      )
      .returning(["attempts", "reset_at"])
      .executeTakeFirstOrThrow();
    if (Number(row.attempts) <= budget.max) return 0;
    return Math.max(1, Math.ceil((Number(row.reset_at) - now) / 1000));
  }
}

/**
 * The address a budget is kept for: IPv4 as is (an IPv4-mapped IPv6 address becomes its IPv4 form),
 * IPv6 by its /64 prefix, because one subscriber is routinely given a whole /64 and could
 * otherwise take a fresh budget for every address in it.
 */
export function addressBucket(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  const bare = address.split("%", 1)[0]!;
  if (!isIPv6(bare)) return address;
  const [head = "", tail] = bare.toLowerCase().split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

function counterKey(kind: string, identity: string): string {
  // PostgreSQL text cannot hold NUL: such an identity is counted by its digest like a long one.
  if (identity.length <= MAX_READABLE_KEY && !identity.includes("\0")) return `${kind}:${identity}`;
  return `${kind}#${createHash("sha256").update(identity).digest("hex")}`;
}
