/** What the use cases count (login, refresh, mail and webhook outcomes, password computations), free of prom-client. */

/** How a password login ended, decided by the login use case (both doors: `login` and `POST /token`). */
export type LoginOutcome = "success" | "failure" | "rate_limited" | "inactive" | "mfa_required";
/** How a refresh ended: a new pair, a token refused, or a spent token presented again (reuse detection). */
export type RefreshOutcome = "success" | "invalid" | "reuse";
/** One delivery attempt of an outbox message: accepted, failed and rescheduled, or failed for good. */
export type EmailOutcome = "sent" | "retry" | "failed";
/** One delivery attempt of a webhook: a 2xx answer, failed and rescheduled, or given up. */
export type WebhookOutcome = "delivered" | "retry" | "failed";
/** A password computation: a new hash, or the verification of one (the dummy for unknown usernames included). */
export type PasswordOperation = "hash" | "verify";

/**
 * The counters every capability reports to. Each outcome is counted once, by the module that
 * decides it; every method is O(1) and never throws, so counting cannot fail what it counts.
 */
export interface Metrics {
  loginOutcome(outcome: LoginOutcome): void;
  refreshOutcome(outcome: RefreshOutcome): void;
  emailOutcome(outcome: EmailOutcome): void;
  webhookOutcome(outcome: WebhookOutcome): void;
  /** How long one computation held its slot, in seconds (the wait for a slot and the equal-timing padding excluded). */
  passwordComputed(operation: PasswordOperation, seconds: number): void;
}

const ignore = (): void => undefined;

/** Counts nothing: METRICS_PORT unset, and the CLI. */
export const NO_METRICS: Metrics = Object.freeze({
  loginOutcome: ignore,
  refreshOutcome: ignore,
  emailOutcome: ignore,
  webhookOutcome: ignore,
  passwordComputed: ignore,
});
