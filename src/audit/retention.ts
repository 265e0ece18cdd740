/** Retention: deletes audit events older than AUTH_EVENTS_RETENTION_DAYS in small batches, in every server process. */
import { setTimeout as sleep } from "node:timers/promises";
import { type Kysely } from "kysely";
import { type Clock } from "../clock";
import { type Database } from "../db/database";
import { type Logger } from "../log";
import { deleteEventsBefore } from "./audit.store";
import { deleteSettledDeliveriesBefore } from "./webhooks/webhook-outbox.store";

export interface RetentionTiming {
  /** The wait between sweeps. */
  readonly intervalMs: number;
  /** Rows one DELETE removes at most: short statements, never a long lock on the table. */
  readonly batchSize: number;
  /** The pause between two batches of one sweep, so a long backlog never monopolises the database. */
  readonly batchPauseMs: number;
}

export const DEFAULT_RETENTION_TIMING: RetentionTiming = { intervalMs: 60_000, batchSize: 500, batchPauseMs: 50 };

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RetentionDeps {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly retentionDays: number;
  readonly timing: RetentionTiming;
}

/** The sweeper; started and stopped with the app. Several processes sweeping at once only share the work. */
export class RetentionSweeper {
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;

  constructor(private readonly deps: RetentionDeps) {}

  start(ready: Promise<void>): void {
    this.running ??= this.loop(ready);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  /**
   * One sweep: batches until a batch comes back short (or the sweeper stops).
   * @returns how many events were deleted.
   */
  async sweep(): Promise<number> {
    const { db, clock, timing, retentionDays } = this.deps;
    const before = clock.now() - retentionDays * DAY_MS;
    let total = 0;
    for (;;) {
      const events = await deleteEventsBefore(db, before, timing.batchSize);
      const deliveries = await deleteSettledDeliveriesBefore(db, before, timing.batchSize);
      total += events;
      if ((events < timing.batchSize && deliveries < timing.batchSize) || this.stopping.signal.aborted) return total;
      await sleep(timing.batchPauseMs);
    }
  }

  private async loop(ready: Promise<void>): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.stopping.signal.addEventListener("abort", () => resolve(), { once: true }));
    await Promise.race([ready, stopped]);
    while (!this.stopping.signal.aborted) {
      try {
        const deleted = await this.sweep();
        if (deleted > 0) this.deps.logger.info({ deleted }, "audit events past their retention deleted");
      } catch (error) {
        this.deps.logger.warn({ err: { code: (error as { code?: unknown }).code } }, "audit retention sweep failed; retrying");
      }
      try {
        await sleep(this.deps.timing.intervalMs, undefined, { signal: this.stopping.signal });
      } catch {
        return;
      }
    }
  }
}
