/** The webhook delivery loop: claims due deliveries, POSTs them signed, settles them; one per server process. */
import { randomUUID } from "node:crypto";
import { type Kysely } from "kysely";
import { DeliveryLoop, SHUTDOWN } from "../../background/delivery-loop";
import { type Clock } from "../../clock";
import { type WebhookConfig } from "../../config";
import { type Database } from "../../db/database";
import { backoffDelay, type BackoffPolicy } from "../../db/startup";
import { type Logger } from "../../log";
import { type Metrics } from "../../metrics/metrics";
import { signWebhook } from "./signature";
import {
  claimNextDelivery,
  markDelivered,
  markDeliveryFailed,
  releaseDelivery,
  scheduleDeliveryRetry,
  type ClaimedDelivery,
} from "./webhook-outbox.store";

/** Every timing of the webhook outbox; tests shorten them through AppOverrides.audit. */
export interface WebhookTiming {
  /** The wait between looks at the outbox when nothing was due. */
  readonly pollIntervalMs: number;
  /** How long a claim holds a delivery; longer than sendTimeoutMs, so a live sender never loses one. */
  readonly leaseMs: number;
  /** A receiver that has not answered in this long counts as a failure (CONTRACT: 10 s). */
  readonly sendTimeoutMs: number;
  /** The wait after each failed attempt: doubling from initialDelayMs up to maxDelayMs. */
  readonly retry: BackoffPolicy;
  /** A delivery still failing this long after its event is given up (at least 24 hours). */
  readonly retryForMs: number;
  /** close() lets the delivery in hand finish this long, then aborts it and hands it back. */
  readonly shutdownGraceMs: number;
}

export const DEFAULT_WEBHOOK_TIMING: WebhookTiming = {
  pollIntervalMs: 1_000,
  leaseMs: 60_000,
  sendTimeoutMs: 10_000,
  // 10 s, 20 s, 40 s, ... then every 30 minutes: the first retry within 15 s (CONTRACT section 12),
  // about 60 attempts in the 26 hours.
  retry: { initialDelayMs: 10_000, maxDelayMs: 30 * 60_000 },
  retryForMs: 26 * 60 * 60_000,
  shutdownGraceMs: 2_000,
};

export interface WebhookSenderDeps {
  readonly db: Kysely<Database>;
  readonly webhook: WebhookConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly timing: WebhookTiming;
  /** Counts each delivery attempt's outcome (`delivered`, `retry`, `failed`). */
  readonly metrics: Metrics;
}

/**
 * Delivers the webhook outbox one event at a time, in every server process. A delivery is claimed
 * with a lease (claimNextDelivery), so any number of senders deliver each event once while they
 * live; one whose process dies mid-delivery is claimed again when its lease ends (at least once:
 * receivers de-duplicate by `webhook-id`). Failures are logged by event id and outcome code, never
 * with the body or the secret, and never reach a request.
 */
export class WebhookSender {
  private readonly owner = randomUUID();
  private readonly loop: DeliveryLoop;

  constructor(private readonly deps: WebhookSenderDeps) {
    const { pollIntervalMs, shutdownGraceMs } = deps.timing;
    this.loop = new DeliveryLoop({
      name: "webhook outbox",
      pollIntervalMs,
      shutdownGraceMs,
      logger: deps.logger,
      deliverOne: () => this.sendOne(),
      summarise: (error) => ({ code: (error as { code?: unknown }).code }),
    });
  }

  /** Starts the loop once `ready` (the database migrated) resolves; a second call does nothing. */
  start(ready: Promise<void>): void {
    this.loop.start(ready);
  }

  /** Stops the loop; the delivery in hand may finish for shutdownGraceMs, then is handed back untried. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Claims and delivers one due event. @returns whether there was one. */
  private async sendOne(): Promise<boolean> {
    const { db, clock, timing } = this.deps;
    const delivery = await claimNextDelivery(db, this.owner, clock.now(), timing.leaseMs);
    if (!delivery) return false;
    if (this.loop.stopped) {
      await releaseDelivery(db, delivery.eventId, this.owner);
      return true;
    }
    const controller = this.loop.hold();
    const deadline = setTimeout(() => controller.abort(), timing.sendTimeoutMs);
    let outcome: string | undefined;
    try {
      outcome = await this.post(delivery, controller.signal);
    } catch {
      if (controller.signal.reason === SHUTDOWN) {
        await releaseDelivery(db, delivery.eventId, this.owner);
        this.deps.logger.info({ eventId: delivery.eventId }, "webhook handed back at shutdown");
        return true;
      }
      outcome = controller.signal.aborted ? "TIMEOUT" : "UNREACHABLE";
    } finally {
      clearTimeout(deadline);
      this.loop.release(controller);
    }
    if (outcome === undefined) {
      this.deps.metrics.webhookOutcome("delivered");
      await markDelivered(db, delivery.eventId, this.owner, clock.now());
      this.deps.logger.info({ eventId: delivery.eventId, attempts: delivery.attempts + 1 }, "webhook delivered");
    } else {
      await this.failed(delivery, outcome);
    }
    return true;
  }

  /** POSTs one delivery. @returns undefined on a 2xx answer, else the failure's code (`HTTP 500`). */
  private async post(delivery: ClaimedDelivery, signal: AbortSignal): Promise<string | undefined> {
    const { webhook, clock } = this.deps;
    const timestamp = Math.floor(clock.now() / 1000);
    const response = await fetch(webhook.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": delivery.eventId,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signWebhook(webhook.secret, delivery.eventId, timestamp, delivery.body),
      },
      body: delivery.body,
      redirect: "manual",
      signal,
    });
    // The answer's body is of no use and must not hold the connection.
    await response.body?.cancel().catch(() => undefined);
    return response.status >= 200 && response.status < 300 ? undefined : `HTTP ${response.status}`;
  }

  private async failed(delivery: ClaimedDelivery, code: string): Promise<void> {
    const { db, clock, logger, timing } = this.deps;
    const attempts = delivery.attempts + 1;
    const now = clock.now();
    if (now - delivery.createdAt >= timing.retryForMs) {
      this.deps.metrics.webhookOutcome("failed");
      await markDeliveryFailed(db, delivery.eventId, this.owner, code);
      logger.warn({ eventId: delivery.eventId, attempts, error: code }, "webhook not delivered after retrying; given up");
      return;
    }
    const retryInMs = backoffDelay(timing.retry, attempts);
    this.deps.metrics.webhookOutcome("retry");
    await scheduleDeliveryRetry(db, delivery.eventId, this.owner, now + retryInMs, code);
    logger.warn({ eventId: delivery.eventId, attempts, error: code, retryInMs }, "webhook delivery failed; retrying");
  }
}
