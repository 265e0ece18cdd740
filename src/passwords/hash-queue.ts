/** The hash queue: weighted slots for password computations, a bounded line of waiters, dropped when their client leaves. */
import { ClientGone, ServerBusy, ShuttingDown } from "../errors";

export interface HashQueueLimits {
  /** HASH_CONCURRENCY: the weight that may compute at once. */
  readonly slots: number;
  /** HASH_QUEUE_MAX: computations that may wait; a bounded one beyond it is refused at once. */
  readonly maxWaiting: number;
  /**
   * A waiter whose turn comes after this long is refused rather than computed: its client has
   * most likely given up, and the failed-login limiter relies on an attempt ending within a bound.
   */
  readonly maxWaitMs: number;
}

export interface QueuedRun {
  /** How many slots the computation occupies (an argon2 hash's lanes). */
  readonly weight: number;
  /** Whether the queue bound applies: anonymous verifications, not the hash of a verified password. */
  readonly bounded: boolean;
  /** Aborts when the client has gone: a waiter is then removed unhashed. */
  readonly signal?: AbortSignal;
}

interface Waiter {
  readonly weight: number;
  readonly enqueuedAt: number;
  readonly start: () => void;
  readonly fail: (error: Error) => void;
}

/** Weight of the running average of computation times: recent hashes count most, one outlier little. */
const AVERAGE_WEIGHT = 0.2;

/**
 * First in, first out over HASH_CONCURRENCY weighted slots. Written here rather than taken from a
 * library: async-mutex's Semaphore has weights but no way to withdraw one waiter, and p-queue has
 * abort signals but no weights; both would leave the bound and the estimate to be bolted on.
 */
export class HashQueue {
  private free: number;
  private readonly line: Waiter[] = [];
  private runningCount = 0;
  private finished = 0;
  private averageMs = 0;
  /** Shutting down: nothing may wait any more, though a computation can still start on a free slot. */
  private draining = false;
  private closed = false;
  private readonly idle: Array<() => void> = [];
  /** Verifications admitted (admit()) and not yet released: on their way to the queue, waiting, or computing. */
  private admittedCount = 0;

  constructor(private readonly limits: HashQueueLimits) {
    this.free = limits.slots;
  }

  /**
   * Runs `compute` once it has its slots.
   * @throws ServerBusy when it is bounded and HASH_QUEUE_MAX computations already wait (or its turn
   *   came too late), ClientGone when its signal aborts before it starts, ShuttingDown once the
   *   queue is draining and it would have to wait, or closed. A computation that has started
   *   always finishes.
   */
  async run<T>(compute: () => Promise<T>, options: QueuedRun): Promise<T> {
    if (this.closed) throw new ShuttingDown();
    if (options.signal?.aborted) throw new ClientGone();
    const weight = Math.max(1, Math.min(options.weight, this.limits.slots));
    if (this.line.length > 0 || this.free < weight) {
      if (this.draining) throw new ShuttingDown();
      if (options.bounded && this.line.length >= this.limits.maxWaiting) throw new ServerBusy(this.retryAfterSeconds());
      await this.wait(weight, options.signal);
    } else {
      this.free -= weight;
    }
    this.runningCount += 1;
    const started = performance.now();
    try {
      return await compute();
    } finally {
      const took = performance.now() - started;
      this.averageMs = this.finished === 0 ? took : this.averageMs + AVERAGE_WEIGHT * (took - this.averageMs);
      this.finished += 1;
      this.runningCount -= 1;
      this.free += weight;
      this.dispatch();
    }
  }

  /**
   * Admits one bounded verification before the work that leads to it (a login's failed-login
   * bookkeeping and user lookup): at most HASH_QUEUE_MAX + HASH_CONCURRENCY are admitted at once,
   * so a flood beyond the bound is refused before it touches the database, instead of first
   * queueing for a database connection with everyone else and only then meeting the full queue.
   * @returns the release, to call once the verification is over, however it ended (idempotent).
   * @throws ServerBusy beyond the bound.
   */
  admit(): () => void {
    if (this.admittedCount >= this.limits.maxWaiting + this.limits.slots) throw new ServerBusy(this.retryAfterSeconds());
    this.admittedCount += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.admittedCount -= 1;
    };
  }

  private wait(weight: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = this.line.indexOf(waiter);
        if (index < 0) return;
        this.line.splice(index, 1);
        reject(new ClientGone());
        // The head may have been waiting behind this one's weight.
        this.dispatch();
      };
      const waiter: Waiter = {
        weight,
        enqueuedAt: performance.now(),
        start: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        fail: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.line.push(waiter);
    });
  }

  /** Starts waiters in order while the head fits; refuses those whose turn came too late. */
  private dispatch(): void {
    while (this.line.length > 0 && this.line[0]!.weight <= this.free) {
      const next = this.line.shift()!;
      if (performance.now() - next.enqueuedAt > this.limits.maxWaitMs) {
        next.fail(new ServerBusy(this.retryAfterSeconds()));
        continue;
      }
      this.free -= next.weight;
      next.start();
    }
    if (this.runningCount === 0 && this.free === this.limits.slots) for (const wake of this.idle.splice(0)) wake();
  }

  /**
   * An honest estimate, in whole seconds (at least 1), of when a new computation would start: the
   * weight already waiting or running, shared over the slots, at the recent average duration.
   */
  retryAfterSeconds(): number {
    const queued = this.line.reduce((sum, w) => sum + w.weight, 0) + (this.limits.slots - this.free);
    return Math.max(1, Math.ceil((queued * this.averageMs) / this.limits.slots / 1000));
  }

  /**
   * Refuses every waiter (ShuttingDown), and every later arrival that would have to wait: a request
   * already in flight whose login finds a free slot is still answered. Running computations go on.
   */
  cancelWaiting(): void {
    this.draining = true;
    for (const waiter of this.line.splice(0)) waiter.fail(new ShuttingDown());
  }

  /** Refuses everything from now on (the service is closing); running computations go on. */
  close(): void {
    this.closed = true;
    this.cancelWaiting();
  }

  /** Resolves once nothing is computing. */
  whenIdle(): Promise<void> {
    if (this.runningCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Computations finished so far. */
  get completed(): number {
    return this.finished;
  }

  /** Verifications admitted and not yet released. */
  get admitted(): number {
    return this.admittedCount;
  }

  /** Computations waiting for a slot now. */
  get waiting(): number {
    return this.line.length;
  }

  /** Computations holding slots now. */
  get running(): number {
    return this.runningCount;
  }
}
