/** The password service: new argon2id hashes, verification of every known format, rehash decisions. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Semaphore } from "async-mutex";
import { Piscina } from "piscina";
import { type Argon2Policy } from "../config";
import { hash as computeHash, verify as computeVerify, type HashTask, type VerifyTask } from "./hash-worker";
import { isCurrentArgon2 } from "./password-formats/argon2";
import { HashRejected } from "./password-formats/format";
import { findFormat, unsupportedFamily } from "./password-formats";

export interface PasswordVerification {
  readonly ok: boolean;
  /** The stored value should be replaced by a hash under the current policy (only when ok). */
  readonly needsRehash: boolean;
  /** Why the stored value was not even computed, for a warning that names no hash. */
  readonly refused?: { family: string; reason: string };
}

export interface PasswordServiceOptions {
  /**
   * Make the dummy hash (what an unknown username is checked against) at start, the default, so
   * that the first unknown username costs what every later one does. A CLI command that only
   * hashes passes false and never pays for it.
   */
  readonly dummyHashAtStart?: boolean;
}

export class PasswordService {
  /**
   * Admits the computations: HASH_CONCURRENCY slots, and an argon2 computation takes as many as it
   * has lanes (`p`), since it runs that many threads. More at once would only share the same cores
   * while holding `m` of memory each, and slow every other request down.
   */
  private readonly slots: Semaphore;
  private closing = false;
  private completed = 0;
  private dummyHash: Promise<string> | undefined;

  private constructor(
    private readonly pool: Piscina,
    private readonly policy: Argon2Policy,
    private readonly concurrency: number,
  ) {
    this.slots = new Semaphore(concurrency, new Error("the password service is closing"));
  }

  /**
   * Starts the worker pool (up to HASH_CONCURRENCY threads, for the formats computed in
   * JavaScript; idle threads exit, so a server whose users all have argon2 hashes keeps none) and
   * makes the dummy hash that unknown usernames are checked against (at once unless
   * `options.dummyHashAtStart` is false, then at the first verification that needs it).
   */
  static async create(policy: Argon2Policy, concurrency: number, options: PasswordServiceOptions = {}): Promise<PasswordService> {
    const pool = new Piscina({
      filename: workerFile(),
      minThreads: 0,
      maxThreads: concurrency,
      idleTimeout: 5_000,
    });
    // Before any hash: libuv's thread pool, where argon2 runs, takes its CPU priority from the
    // thread that starts it, and a pool thread runs at a lower one (see hash-worker.ts).
    await pool.run(undefined, { name: "startThreadPool" });
    const service = new PasswordService(pool, policy, concurrency);
    if (options.dummyHashAtStart !== false) await service.dummy();
    return service;
  }

  /** The dummy hash, made on first use: a hash of random text under the current policy. */
  private dummy(): Promise<string> {
    this.dummyHash ??= this.hash(randomBytes(24).toString("base64"));
    return this.dummyHash;
  }

  /** An argon2id hash of the NFKC form of `password` under the current policy. */
  hash(password: string): Promise<string> {
    const task: HashTask = { password: password.normalize("NFKC"), policy: { ...this.policy } };
    return this.run(() => computeHash(task), this.policy.parallelism);
  }

  /**
   * Runs a computation once it has its slots; `threads` is what it occupies. An argon2 computation
   * is started from here: its memory and threads are libuv's, and a worker thread would only add
   * a JavaScript heap of its own (about 15 MiB) to wait in.
   */
  private async run<T>(compute: () => Promise<T>, threads: number): Promise<T> {
    if (this.closing) throw new Error("the password service is closed");
    const weight = Math.max(1, Math.min(threads, this.concurrency));
    return this.slots.runExclusive(async () => {
      try {
        return await compute();
      } finally {
        this.completed += 1;
      }
    }, weight);
  }

  /** Verifies in a worker thread when the format computes in JavaScript, here otherwise. */
  private runVerify(task: VerifyTask, computesOnCaller: boolean, threads: number): Promise<number> {
    return this.run(() => (computesOnCaller ? (this.pool.run(task, { name: "verify" }) as Promise<number>) : computeVerify(task)), threads);
  }

  /**
   * Verifies `password` against a stored value of any known format. An empty, unknown, malformed or
   * out-of-bounds stored value costs one dummy verification and answers not ok, so it looks like a
   * wrong password from outside.
   */
  async verify(password: string, stored: string | null | undefined): Promise<PasswordVerification> {
    const format = stored ? findFormat(stored) : undefined;
    if (!stored || !format) {
      await this.verifyDummy(password);
      return { ok: false, needsRehash: false, refused: stored ? { family: unsupportedFamily(stored), reason: "unknown-format" } : undefined };
    }
    try {
      format.inspect(stored);
    } catch (error) {
      if (!(error instanceof HashRejected)) throw error;
      await this.verifyDummy(password);
      return { ok: false, needsRehash: false, refused: { family: error.family, reason: error.reason } };
    }
    const normalized = password.normalize("NFKC");
    // Our own hashes are of the NFKC form; hashes from other systems are of the raw bytes they saw.
    const candidates = format.normalizesPassword && normalized !== password ? [normalized, password] : [format.normalizesPassword ? normalized : password];
    const task: VerifyTask = { candidates, stored };
    const matched = await this.runVerify(task, format.computesOnCaller, lanesOf(stored));
    if (matched < 0) return { ok: false, needsRehash: false };
    const needsRehash = !isCurrentArgon2(stored, this.policy) || candidates[matched] !== normalized;
    return { ok: true, needsRehash };
  }

  /** The same work as verifying a current-policy hash, for callers that have no hash to check. */
  async verifyDummy(password: string): Promise<void> {
    const task: VerifyTask = { candidates: [password.normalize("NFKC")], stored: await this.dummy() };
    await this.runVerify(task, false, this.policy.parallelism);
  }

  /** Whether a stored value is of a known format with acceptable parameters (used by import). */
  static inspect(stored: string): { ok: true; family: string } | { ok: false; family: string; reason: string } {
    const format = findFormat(stored);
    if (!format) return { ok: false, family: unsupportedFamily(stored), reason: "unknown-format" };
    try {
      format.inspect(stored);
      return { ok: true, family: format.family };
    } catch (error) {
      if (error instanceof HashRejected) return { ok: false, family: error.family, reason: error.reason };
      throw error;
    }
  }

  /** Tasks the worker threads finished: the formats computed in JavaScript, and the start-up task. */
  get workerTasks(): number {
    return this.pool.completed;
  }

  /** Hashes and verifications finished so far (tests check that the dummy verification ran). */
  get completedTasks(): number {
    return this.completed;
  }

  /**
   * Refuses the tasks still waiting and waits for the running ones: a thread terminated in the
   * middle of an argon2 computation takes the whole process down when the computation ends
   * (piscina's own close() can stop waiting early, so the slots decide).
   */
  async close(): Promise<void> {
    this.closing = true;
    this.slots.cancel();
    await this.slots.waitForUnlock(this.concurrency);
    await this.pool.destroy();
  }
}

/** The threads a stored hash keeps busy: an argon2 hash's lanes (`p=`), one for any other format. */
function lanesOf(stored: string): number {
  const lanes = /^(?:argon2)?\$argon2(?:id|i|d)\$.*[$,]p=(\d{1,3})(?:[$,]|$)/.exec(stored)?.[1];
  return lanes === undefined ? 1 : Number(lanes);
}

function workerFile(): string {
  const compiled = join(__dirname, "hash-worker.js");
  // Under ts-jest this module runs from src/, where only the TypeScript source exists. A worker
  // thread needs plain JavaScript, so it comes from the build (`npm test` builds first).
  return existsSync(compiled) ? compiled : join(__dirname, "..", "..", "dist", "auth", "hash-worker.js");
}
