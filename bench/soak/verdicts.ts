/** How the soak judges each answer and each refresh chain against the faults' timeline (CONTRACT section 14). */
import { type Answer } from "./http";
import { isRefusal, type Chain, type Sent } from "./load";

/** performance.now() of each fault, as the run applied them. */
export interface Timeline {
  readonly cutStart: number;
  readonly cutEnd: number;
  readonly killAt: number;
  /** Once the killed worker's slot has a new process and it had time to start. */
  readonly faultsEnd: number;
}

/** After the line is back, the pool needs a moment to reconnect: outage answers this long after the cut still count as the cut's. */
export const CUT_GRACE_MS = 5_000;
/** Requests on the killed worker's connections fail at once; this long after the SIGKILL, a reset still counts as the kill's. */
export const KILL_GRACE_MS = 3_000;

export type Verdict = "ok" | "expected" | "outage" | "killed" | "refused" | "unexpected";

/** `route status code`: the label requests are counted under. */
export function outcomeOf(sent: Sent): string {
  if (sent.status === undefined) return `${sent.route} no answer (${sent.failure ?? "?"})`;
  const error = sent.body?.errors?.[0];
  if (error) {
    const code = String(error.extensions?.code ?? "?");
    return `${sent.route} ${sent.status} ${code}${error.message === "Service unavailable" ? " (Service unavailable)" : ""}`;
  }
  if (typeof sent.body?.error === "string") return `${sent.route} ${sent.status} ${sent.body.error}`;
  return `${sent.route} ${sent.status} ${sent.failure ?? "ok"}`;
}

/** The outage answers of CONTRACT sections 7 and 15: GraphQL "Service unavailable" (HTTP 200), /token 503 temporarily_unavailable. */
export function isOutage(answer: Answer): boolean {
  if (answer.status === 503)
    return answer.body?.error === "temporarily_unavailable" && answer.body?.error_description === "Service unavailable";
  const errors = answer.body?.errors;
  return (
    answer.status === 200 &&
    Array.isArray(errors) &&
    errors.every((e: any) => e.message === "Service unavailable" && e.extensions?.code === "INTERNAL_SERVER_ERROR")
  );
}

function duringCut(answer: Answer, t: Timeline): boolean {
  return answer.endedAt >= t.cutStart && answer.sentAt <= t.cutEnd + CUT_GRACE_MS && answer.endedAt <= t.cutEnd + CUT_GRACE_MS;
}

function atKill(answer: Answer, t: Timeline): boolean {
  return answer.endedAt >= t.killAt && answer.endedAt <= t.killAt + KILL_GRACE_MS;
}

/** Errors each route may meet by design: a wrong password, a limit, the refusal a chain judges itself. */
function expectedError(sent: Sent): Verdict | undefined {
  const code = sent.body?.errors?.[0]?.extensions?.code ?? sent.body?.error;
  if (sent.route === "login-wrong" && sent.status === 200 && (code === "UNAUTHENTICATED" || code === "RATE_LIMITED")) return "expected";
  if ((sent.route === "register" || sent.route === "reset-request") && sent.status === 200 && code === "RATE_LIMITED") return "expected";
  if ((sent.route === "refresh" || sent.route === "token-refresh") && isRefusal(sent)) return "refused";
  return undefined;
}

function succeeded(sent: Sent): boolean {
  if (sent.status !== 200 || sent.body === undefined || sent.body.errors) return false;
  if (sent.route === "token-password" || sent.route === "token-refresh") return typeof sent.body.access_token === "string";
  return sent.body.data !== undefined && sent.body.data !== null;
}

/**
 * ok: the answer the route exists for. expected: a designed refusal. outage: the outage answer,
 * within the cut (and its grace). killed: no answer, around the SIGKILL. refused: a refresh
 * refusal, which the chain's verdict judges. Anything else is unexpected and fails the run.
 */
export function verdictOf(sent: Sent, t: Timeline): Verdict {
  if (succeeded(sent)) return "ok";
  if (sent.status === undefined) return sent.failure !== "timeout" && atKill(sent, t) ? "killed" : "unexpected";
  if (isOutage(sent)) return duringCut(sent, t) ? "outage" : "unexpected";
  return expectedError(sent) ?? "unexpected";
}

/** The one 5xx allowed: `/token` 503 temporarily_unavailable while the database is cut. */
export function isAllowed5xx(sent: Sent, t: Timeline): boolean {
  return (sent.route === "token-password" || sent.route === "token-refresh") && isOutage(sent) && duringCut(sent, t);
}

export type ChainVerdict = "completed" | "stopped" | "ended by reuse detection" | "broken" | "failed";

/**
 * A chain is broken, other than by reuse detection, when a refresh with its current token was
 * refused although that token had been presented only once, or only within
 * REFRESH_TOKEN_REUSE_INTERVAL of its first presentation (a retry then gets the same child), or
 * when the server recorded no `refresh.reuse_detected` for its session. A token whose earlier
 * presentations got no clear answer and that is refused after the interval was spent by a lost
 * answer: the server's reuse detection ended the session, as the contract says it must.
 */
export function chainVerdict(chain: Chain, reuseIntervalMs: number, reuseDetected: ReadonlySet<string>): ChainVerdict {
  if (chain.end === "completed" || chain.end === "stopped" || chain.end === "failed") return chain.end;
  if (chain.end === "running") return "stopped";
  const retriedLate = chain.ambiguous && chain.refusedAt! - chain.presentedAt! > reuseIntervalMs;
  return retriedLate && chain.sid !== undefined && reuseDetected.has(chain.sid) ? "ended by reuse detection" : "broken";
}

/** The p-th percentile (0..100) of `values`, nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
