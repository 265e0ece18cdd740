/** The Prometheus registry: the server's counters, the hash histogram and queue gauge, and the process defaults. */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { type EmailOutcome, type LoginOutcome, type Metrics, type RefreshOutcome, type WebhookOutcome } from "./metrics";

const LOGIN_OUTCOMES: readonly LoginOutcome[] = ["success", "failure", "rate_limited", "inactive", "mfa_required"];
const REFRESH_OUTCOMES: readonly RefreshOutcome[] = ["success", "invalid", "reuse"];
const EMAIL_OUTCOMES: readonly EmailOutcome[] = ["sent", "retry", "failed"];
const WEBHOOK_OUTCOMES: readonly WebhookOutcome[] = ["delivered", "retry", "failed"];
const OPERATIONS = ["hash", "verify"] as const;
/**
 * From a cheap test hash (about a millisecond) to a costly legacy one (bcrypt 16, a few seconds);
 * the default argon2id policy lands between 0.05 and 0.5 s on most machines.
 */
const HASH_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The registry and the metric objects behind the Metrics interface. */
export class MetricsRegistry implements Metrics {
  readonly registry = new Registry();
  private readonly logins: Record<LoginOutcome, () => void>;
  private readonly refreshes: Record<RefreshOutcome, () => void>;
  private readonly emails: Record<EmailOutcome, () => void>;
  private readonly webhooks: Record<WebhookOutcome, () => void>;
  private readonly hashSeconds: Histogram<"operation">;
  private hashQueueLength: () => number = () => 0;

  constructor() {
    const registers = [this.registry];
    this.logins = outcomeCounter(
      new Counter({
        name: "graphql_auth_logins_total",
        help: "Password logins by outcome (GraphQL login and POST /token grant_type=password)",
        labelNames: ["outcome"],
        registers,
      }),
      LOGIN_OUTCOMES,
    );
    this.refreshes = outcomeCounter(
      new Counter({
        name: "graphql_auth_refreshes_total",
        help: "Refresh-token rotations by outcome (GraphQL refresh and POST /token grant_type=refresh_token)",
        labelNames: ["outcome"],
        registers,
      }),
      REFRESH_OUTCOMES,
    );
    this.emails = outcomeCounter(
      new Counter({ name: "graphql_auth_emails_total", help: "Mail delivery attempts by outcome", labelNames: ["outcome"], registers }),
      EMAIL_OUTCOMES,
    );
    this.webhooks = outcomeCounter(
      new Counter({
        name: "graphql_auth_webhooks_total",
        help: "Webhook delivery attempts by outcome",
        labelNames: ["outcome"],
        registers,
      }),
      WEBHOOK_OUTCOMES,
    );
    this.hashSeconds = new Histogram({
      name: "graphql_auth_password_hash_seconds",
      help: "Time one password hash or verification computed, in seconds (waiting and equal-timing padding excluded)",
      labelNames: ["operation"],
      buckets: HASH_BUCKETS,
      registers,
    });
    for (const operation of OPERATIONS) this.hashSeconds.zero({ operation });
    const read = () => this.hashQueueLength();
    new Gauge({
      name: "graphql_auth_hash_queue_length",
      help: "Password verifications waiting for a hash slot (at most HASH_QUEUE_MAX)",
      registers,
      collect() {
        this.set(read());
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** Where the queue gauge reads its value at each scrape (the password service is made after the registry). */
  watchHashQueue(read: () => number): void {
    this.hashQueueLength = read;
  }

  loginOutcome(outcome: LoginOutcome): void {
    this.logins[outcome]();
  }

  refreshOutcome(outcome: RefreshOutcome): void {
    this.refreshes[outcome]();
  }

  emailOutcome(outcome: EmailOutcome): void {
    this.emails[outcome]();
  }

  webhookOutcome(outcome: WebhookOutcome): void {
    this.webhooks[outcome]();
  }

  passwordComputed(operation: "hash" | "verify", seconds: number): void {
    this.hashSeconds.observe({ operation }, seconds);
  }
}

/**
 * Every outcome's series exists from the start at 0 (so `rate()` sees the first one), and each
 * gets its bound increment, so counting is one call, with no label object built per event.
 */
function outcomeCounter<O extends string>(counter: Counter<"outcome">, outcomes: readonly O[]): Record<O, () => void> {
  const bound = {} as Record<O, () => void>;
  for (const outcome of outcomes) {
    counter.inc({ outcome }, 0);
    const child = counter.labels(outcome);
    bound[outcome] = () => child.inc();
  }
  return bound;
}
