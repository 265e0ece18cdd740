/** The password service: new argon2id hashes, verification of every known format, rehash decisions. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Piscina } from "piscina";
import { systemClock, type Clock } from "../clock";
import { type Argon2Policy } from "../config";
import { HashQueue } from "./hash-queue";
import { hash as computeHash, verify as computeVerify, type HashTask, type VerifyTask } from "./hash-worker";
import { isCurrentArgon2 } from "./password-formats/argon2";
import { HashRejected } from "./password-formats/format";
import { findFormat, unsupportedFamily } from "./password-formats";
import { hashKind, VerificationFloor } from "./verification-floor";

export interface PasswordVerification {
  readonly ok: boolean;
  /** The stored value should be replaced by a hash under the current policy (only when ok). */
  readonly needsRehash: boolean;
  /** Why the stored value was not even computed, for a warning that names no hash. */
  readonly refused?: { family: string; reason: string };
}

export interface PasswordServiceOptions {
  /** HASH_QUEUE_MAX: verifications that may wait for a slot (default 32 per slot). */
  readonly queueMax?: number;
  /** Ages the equal-timing floor's memory. */
  readonly clock?: Clock;
  /**
   * Make the dummy hash (what an unknown username is checked against) at start, the default, so
   * that the first unknown username costs what every later one does. A CLI command that only
   * hashes passes false and never pays for it.
   */
  readonly dummyHashAtStart?: boolean;
  /**
   * Told, after each computation, how long it held its slot (the metrics' histogram); the
   * composition root passes it, so this leaf needs to know nothing of metrics.
   */
  readonly onComputed?: ComputationObserver;
}

/** What a computation was and how long it took, in seconds (no password, no hash). */
export type ComputationObserver = (operation: "hash" | "verify", seconds: number) => void;

/** What a caller may pass along with a verification. */
export interface VerifyOptions {
  /** Aborts when the client has gone; a verification still waiting is then dropped unhashed. */
  readonly signal?: AbortSignal;
}

/** The equal-timing accounting of one failed verification (tests and the bench read it). */
export interface Padding {
  readonly computeMs: number;
  readonly floorMs: number;
  readonly paddedMs: number;
}

/** CONTRACT section 15: HASH_QUEUE_MAX defaults to this many waiting verifications per slot. */
export const QUEUE_PER_SLOT = 32;
/** A verification still waiting after this long is answered "Server busy" instead of computed. */
export const MAX_QUEUE_WAIT_MS = 30_000;

export class PasswordService {
  private readonly floor: VerificationFloor;
  private padding: Padding | undefined;
  private dummyHash: Promise<string> | undefined;

  private constructor(
    private readonly pool: Piscina,
    private readonly policy: Argon2Policy,
    /**
     * Admits the computations: HASH_CONCURRENCY slots, and an argon2 computation takes as many as
     * it has lanes (`p`), since it runs that many threads. More at once would only share the same
     * cores while holding `m` of memory each, and slow every other request down.
     */
    private readonly queue: HashQueue,
    clock: Clock,
    private readonly onComputed: ComputationObserver,
  ) {
    this.floor = new VerificationFloor(clock);
  }

  /**
   * Starts the worker pool (up to HASH_CONCURRENCY threads, for the formats computed in
   * JavaScript; idle threads exit, so a server whose users all have argon2 hashes keeps none) and
   * makes the dummy hash that unknown usernames are checked against.
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
    const queue = new HashQueue({
      slots: concurrency,
      maxWaiting: options.queueMax ?? QUEUE_PER_SLOT * concurrency,
      maxWaitMs: MAX_QUEUE_WAIT_MS,
    });
    const service = new PasswordService(pool, policy, queue, options.clock ?? systemClock, options.onComputed ?? (() => undefined));
    if (options.dummyHashAtStart !== false) await service.dummy();
    return service;
  }

  /**
   * The dummy hash, made on first use: a hash of random text under the current policy. Making an
   * argon2 hash costs what verifying one does, so its time starts the floor at the current policy.
   */
  private dummy(): Promise<string> {
    this.dummyHash ??= (async () => {
      const started = performance.now();
      const made = await this.hash(randomBytes(24).toString("base64"));
      this.floor.record(hashKind("argon2", made), performance.now() - started);
      return made;
    })();
    return this.dummyHash;
  }

  /**
   * An argon2id hash of the NFKC form of `password` under the current policy. It waits for a slot
   * without the queue bound: it follows a verified password (sign-in upgrade, change), never an
   * anonymous request.
   */
  hash(password: string): Promise<string> {
    const task: HashTask = { password: password.normalize("NFKC"), policy: { ...this.policy } };
    return this.queue.run(
      async () => {
        const started = performance.now();
        try {
          return await computeHash(task);
        } finally {
          this.onComputed("hash", (performance.now() - started) / 1000);
        }
      },
      { weight: this.policy.parallelism, bounded: false },
    );
  }

  /**
   * Verifies in a worker thread when the format computes in JavaScript, here otherwise (an argon2
   * computation's memory and threads are libuv's: a worker would only add a heap to wait in).
   * @returns the matching candidate's index (or -1) and how long the computation itself took.
   */
  private async runVerify(
    task: VerifyTask,
    computesOnCaller: boolean,
    threads: number,
    options: VerifyOptions,
  ): Promise<{ matched: number; computeMs: number }> {
    let computeMs = 0;
    const matched = await this.queue.run(
      async () => {
        const started = performance.now();
        try {
          return await (computesOnCaller ? (this.pool.run(task, { name: "verify" }) as Promise<number>) : computeVerify(task));
        } finally {
          computeMs = performance.now() - started;
          this.onComputed("verify", computeMs / 1000);
        }
      },
      { weight: threads, bounded: true, signal: options.signal },
    );
    return { matched, computeMs };
  }

  /**
   * Equal timing (CVE-2016-2513): a failed verification, real or dummy, lasts at least the floor,
   * the costliest kind of stored hash verified lately (never less than the current policy's).
   * The wait is a timer after the slot is released: it holds no slot and no CPU.
   */
  private async padFailure(kind: string, computeMs: number): Promise<void> {
    this.floor.record(kind, computeMs);
    const floorMs = this.floor.floorMs();
    const paddedMs = Math.max(0, floorMs - computeMs);
    this.padding = { computeMs, floorMs, paddedMs };
    if (paddedMs >= 1) await sleep(Math.round(paddedMs));
  }

  /**
   * Verifies `password` against a stored value of any known format. An empty, unknown, malformed or
   * out-of-bounds stored value costs one dummy verification and answers not ok, so it looks like a
   * wrong password from outside. Every failure is padded to the equal-timing floor.
   * @throws ServerBusy (queue full), ClientGone (signal aborted while waiting), ShuttingDown.
   */
  async verify(password: string, stored: string | null | undefined, options: VerifyOptions = {}): Promise<PasswordVerification> {
    const format = stored ? findFormat(stored) : undefined;
    if (!stored || !format) {
      await this.verifyDummy(password, options);
      return {
        ok: false,
        needsRehash: false,
        refused: stored ? { family: unsupportedFamily(stored), reason: "unknown-format" } : undefined,
      };
    }
    try {
      format.inspect(stored);
    } catch (error) {
      if (!(error instanceof HashRejected)) throw error;
      await this.verifyDummy(password, options);
      return { ok: false, needsRehash: false, refused: { family: error.family, reason: error.reason } };
    }
    const normalized = password.normalize("NFKC");
    // Our own hashes are of the NFKC form; hashes from other systems are of the raw bytes they saw.
    const candidates =
      format.normalizesPassword && normalized !== password ? [normalized, password] : [format.normalizesPassword ? normalized : password];
    const task: VerifyTask = { candidates, stored };
    const { matched, computeMs } = await this.runVerify(task, format.computesOnCaller, lanesOf(stored), options);
    if (matched < 0) {
      await this.padFailure(hashKind(format.family, stored), computeMs);
      return { ok: false, needsRehash: false };
    }
    const needsRehash = !isCurrentArgon2(stored, this.policy) || candidates[matched] !== normalized;
    return { ok: true, needsRehash };
  }

  /** The same work as verifying a current-policy hash, padded like any failure, for callers that have no hash to check. */
  /**
   * Admits an anonymous verification ahead of the work before it (HashQueue.admit): the login
   * calls it first, so a flood beyond HASH_QUEUE_MAX is answered before any database work.
   * @returns the release, for once the verification is over.
   * @throws ServerBusy beyond the bound.
   */
  admitVerification(): () => void {
    return this.queue.admit();
  }

  async verifyDummy(password: string, options: VerifyOptions = {}): Promise<void> {
    const stored = await this.dummy();
    const task: VerifyTask = { candidates: [password.normalize("NFKC")], stored };
    const { computeMs } = await this.runVerify(task, false, this.policy.parallelism, options);
    await this.padFailure(hashKind("argon2", stored), computeMs);
  }

  /**
   * Verifies a random password against each stored hash given (one per kind, from the database),
   * so that the floor knows their costs before any client can time a first one. Failures of
   * calibration (busy, closing) are ignored: the floor then learns at the first real login.
   */
  async calibrate(stored: readonly string[]): Promise<void> {
    for (const value of stored) {
      try {
        await this.verify(randomBytes(18).toString("base64"), value);
      } catch {
        return;
      }
    }
  }

  /** The kind (family and parameters, no salt or digest) of a stored hash, or undefined for an unknown format. */
  static kindOf(stored: string): string | undefined {
    const format = findFormat(stored);
    return format && hashKind(format.family, stored);
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

  /** Hashes and verifications computed so far (tests check that the dummy ran, or that a dropped one did not). */
  get completedTasks(): number {
    return this.queue.completed;
  }

  /** Verifications waiting for a slot now (at most HASH_QUEUE_MAX of the bounded kind). */
  get waitingTasks(): number {
    return this.queue.waiting;
  }

  /** Computations holding slots now. */
  get runningTasks(): number {
    return this.queue.running;
  }

  /** The equal-timing floor now, in milliseconds. */
  get floorMs(): number {
    return this.floor.floorMs();
  }

  /** The accounting of the last failed verification: its computation, the floor, the padding added. */
  get lastPadding(): Padding | undefined {
    return this.padding;
  }

  /**
   * The first step of shutdown: every waiting verification is answered ShuttingDown at once, and
   * so is every later one that would have to wait (one from a request already in flight that finds
   * a free slot still runs, so that request is answered); the running ones go on.
   */
  stopAccepting(): void {
    this.queue.cancelWaiting();
  }

  /**
   * Refuses the tasks still waiting and waits for the running ones: a thread terminated in the
   * middle of an argon2 computation takes the whole process down when the computation ends
   * (piscina's own close() can stop waiting early, so the queue decides).
   */
  async close(): Promise<void> {
    this.queue.close();
    await this.queue.whenIdle();
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
  return existsSync(compiled) ? compiled : join(__dirname, "..", "..", "dist", "passwords", "hash-worker.js");
}
