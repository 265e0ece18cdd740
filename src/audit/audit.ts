/** The audit capability: recordEvent for use cases, and the process's webhook sender and retention sweeper. */
import { randomUUID } from "node:crypto";
import { type Kysely } from "kysely";
import { type Clock } from "../clock";
import { type Config } from "../config";
import { type Database } from "../db/database";
import { type Logger } from "../log";
import { type Metrics } from "../metrics/metrics";
import { insertEvent } from "./audit.store";
import { type NewAuthEvent, type StoredAuthEvent } from "./auth-event";
import { DEFAULT_RETENTION_TIMING, RetentionSweeper, type RetentionTiming } from "./retention";
import { webhookBody } from "./webhooks/signature";
import { insertDelivery } from "./webhooks/webhook-outbox.store";
import { DEFAULT_WEBHOOK_TIMING, WebhookSender, type WebhookTiming } from "./webhooks/webhook-sender";

export type { AuthEventType, EventClient, NewAuthEvent } from "./auth-event";

/** What tests change: the webhook and retention timings. */
export interface AuditOverrides {
  readonly webhooks?: Partial<WebhookTiming>;
  readonly retention?: Partial<RetentionTiming>;
}

/** The one call every use case makes to record an event. */
export interface EventRecorder {
  /**
   * Records an event, and with WEBHOOK_URL set queues its webhook delivery. Pass the use case's
   * own transaction, so the event (and its delivery) commit with the change it records, or not at
   * all; the delivery happens later, never inside the request.
   * @returns the stored event.
   */
  recordEvent(trx: Kysely<Database>, event: NewAuthEvent): Promise<StoredAuthEvent>;
  /**
   * Records an event that no change of data goes with (a failed login), in a transaction of its
   * own. Never call it inside another transaction: SQLite has one connection, which that holds.
   */
  recordEventAlone(event: NewAuthEvent): Promise<StoredAuthEvent>;
}

export interface Audit extends EventRecorder {
  /** Starts this process's webhook sender (when configured) and retention sweeper once `ready` resolves. */
  start(ready: Promise<void>): void;
  /** Stops both; a webhook in hand finishes, or is handed back after a short grace. */
  stop(): Promise<void>;
}

export interface AuditDeps {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The webhook sender counts its deliveries' outcomes here. */
  readonly metrics: Metrics;
}

/** A recorder without the background work (the CLI: the servers deliver what it queues). */
export function eventRecorder(config: Pick<Config, "webhook">, db: Kysely<Database>, clock: Clock): EventRecorder {
  const webhooks = config.webhook !== undefined;
  const recordEvent = async (trx: Kysely<Database>, event: NewAuthEvent) => {
    const now = clock.now();
    const stored = await insertEvent(trx, randomUUID(), now, event);
    if (webhooks) await insertDelivery(trx, stored.id, webhookBody(stored), now);
    return stored;
  };
  return {
    recordEvent,
    recordEventAlone: (event) =>
      // Without webhooks the one INSERT is atomic already.
      webhooks ? db.transaction().execute((trx) => recordEvent(trx, event)) : recordEvent(db, event),
  };
}

export function createAudit(
  config: Pick<Config, "webhook" | "authEventsRetentionDays">,
  deps: AuditDeps,
  overrides: AuditOverrides = {},
): Audit {
  const { recordEvent, recordEventAlone } = eventRecorder(config, deps.db, deps.clock);
  const sender =
    config.webhook &&
    new WebhookSender({
      db: deps.db,
      webhook: config.webhook,
      clock: deps.clock,
      logger: deps.logger,
      metrics: deps.metrics,
      timing: { ...DEFAULT_WEBHOOK_TIMING, ...overrides.webhooks },
    });
  const sweeper = new RetentionSweeper({
    db: deps.db,
    clock: deps.clock,
    logger: deps.logger,
    retentionDays: config.authEventsRetentionDays,
    timing: { ...DEFAULT_RETENTION_TIMING, ...overrides.retention },
  });
  return {
    recordEvent,
    recordEventAlone,
    start: (ready) => {
      if (sender) {
        deps.logger.info({ url: new URL(config.webhook!.url).origin }, "audit events are delivered as webhooks");
        sender.start(ready);
      }
      sweeper.start(ready);
    },
    stop: async () => {
      await Promise.all([sender?.stop(), sweeper.stop()]);
    },
  };
}
