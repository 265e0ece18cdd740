/** Database start-up in the background: migrate and seed, retried with capped backoff until it works. */
import { setTimeout as sleep } from "node:timers/promises";
import { type Logger } from "../log";
import { classify, logSummary } from "../error-classes";

export interface BackoffPolicy {
  /** The wait after the first failure; each further failure doubles it. */
  readonly initialDelayMs: number;
  /** The longest wait between attempts, however many failed. */
  readonly maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialDelayMs: 500, maxDelayMs: 30_000 };

/** The wait before attempt `failures + 1`: initial × 2^(failures − 1), capped. */
export function backoffDelay(policy: BackoffPolicy, failures: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
}

/**
 * Runs `task` (migrate, seed) until it succeeds, waiting longer after each failure, so a server
 * started before its database keeps serving `/healthz` and refusing cleanly instead of exiting
 * into a restart loop. Every failure is retried, not only unreachable databases: a database that
 * refuses our credentials or a migration that fails is an operator's problem that readiness
 * (`/readyz` 503) and the logs report, and exiting would only add a crash loop to it.
 */
export class DatabaseStartup {
  private ready = false;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private resolveReady!: () => void;
  /** Resolves once the task has succeeded; never rejects. */
  readonly whenReady = new Promise<void>((resolve) => {
    this.resolveReady = resolve;
  });

  constructor(
    private readonly task: () => Promise<void>,
    private readonly logger: Logger,
    private readonly backoff: BackoffPolicy = DEFAULT_BACKOFF,
  ) {}

  /** Starts the attempts in the background; a second call does nothing. */
  start(): void {
    this.running ??= this.loop();
  }

  /** Whether the database has been migrated (and seeded) by this process. */
  isReady(): boolean {
    return this.ready;
  }

  /** Stops retrying and waits for an attempt in progress to end. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    for (let failures = 0; !this.abort.signal.aborted;) {
      try {
        await this.task();
        this.ready = true;
        this.logger.info({ attempts: failures + 1 }, "database ready");
        this.resolveReady();
        return;
      } catch (error) {
        if (this.abort.signal.aborted) return;
        failures += 1;
        const delayMs = backoffDelay(this.backoff, failures);
        // An outage at warn, anything else at error (classify); one short line each, however many attempts.
        const level = classify(error).logLevel === "warn" ? "warn" : "error";
        const fields = { err: logSummary(error), attempt: failures, retryInMs: delayMs };
        this.logger[level](fields, "database not ready: migrating failed; retrying");
        try {
          await sleep(delayMs, undefined, { signal: this.abort.signal });
        } catch {
          return;
        }
      }
    }
  }
}
