/** The loop an outbox sender runs in every server process: deliver what is due, sleep when idle, stop with a grace. */
import { setTimeout as sleep } from "node:timers/promises";
import { type Logger } from "../log";

/** The abort reason of a delivery cut short by stop() once its grace is over: hand it back untried. */
export const SHUTDOWN = Symbol("shutdown");

export interface DeliveryLoopOptions {
  /** Names the outbox in the two log lines of an outage ("mail outbox unreachable; retrying"). */
  readonly name: string;
  readonly pollIntervalMs: number;
  /** stop() lets the delivery in hand finish this long, then aborts its controller with SHUTDOWN. */
  readonly shutdownGraceMs: number;
  readonly logger: Logger;
  /** Claims and delivers one due item. @returns whether there was one (then the next is tried at once). */
  readonly deliverOne: () => Promise<boolean>;
  /** What of a failure of deliverOne (the database away) the warn line carries: never a body or secret. */
  readonly summarise: (error: unknown) => unknown;
}

/**
 * Runs `deliverOne` until stopped: at once again after a delivery, after `pollIntervalMs` when
 * nothing was due or the outbox could not be read (one warn line per outage, one info line when it
 * is back).
 */
export class DeliveryLoop {
  private readonly stopping = new AbortController();
  private inHand: AbortController | undefined;
  private running: Promise<void> | undefined;
  private failing = false;

  constructor(private readonly options: DeliveryLoopOptions) {}

  /** Whether stop() was called: a delivery claimed since is handed back rather than started. */
  get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** The controller of the delivery now in hand, which stop() aborts with SHUTDOWN after the grace. */
  hold(): AbortController {
    this.inHand = new AbortController();
    return this.inHand;
  }

  /** The delivery in hand is settled. */
  release(controller: AbortController): void {
    if (this.inHand === controller) this.inHand = undefined;
  }

  /** Starts the loop once `ready` (the database migrated) resolves; a second call does nothing. */
  start(ready: Promise<void>): void {
    this.running ??= this.loop(ready);
  }

  /** Stops the loop; the delivery in hand may finish for shutdownGraceMs, then is aborted with SHUTDOWN. */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (!this.running) return;
    const grace = setTimeout(() => this.inHand?.abort(SHUTDOWN), this.options.shutdownGraceMs);
    try {
      await this.running;
    } finally {
      clearTimeout(grace);
    }
  }

  private async loop(ready: Promise<void>): Promise<void> {
    const { name, logger, pollIntervalMs } = this.options;
    const stopped = new Promise<void>((resolve) => this.stopping.signal.addEventListener("abort", () => resolve(), { once: true }));
    await Promise.race([ready, stopped]);
    while (!this.stopping.signal.aborted) {
      let delivered = false;
      try {
        delivered = await this.options.deliverOne();
        if (this.failing) logger.info(`${name} reachable again`);
        this.failing = false;
      } catch (error) {
        // The database is away (or a settle failed): the item, if any, keeps its lease and is
        // retried once the lease ends. One line per outage.
        if (!this.failing) logger.warn({ err: this.options.summarise(error) }, `${name} unreachable; retrying`);
        this.failing = true;
      }
      if (delivered) continue;
      try {
        await sleep(pollIntervalMs, undefined, { signal: this.stopping.signal });
      } catch {
        return;
      }
    }
  }
}
