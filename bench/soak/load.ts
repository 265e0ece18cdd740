/** The mixed load: virtual clients sending `me`, logins right and wrong, refresh chains, registrations and reset requests. */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { clientAgent, graphql, someAddress, tokenForm, type Answer, type Target } from "./http";

export type Route =
  "me" | "login" | "login-wrong" | "token-password" | "refresh" | "token-refresh" | "logout" | "register" | "reset-request";

/** One request of the load, as sent and answered. */
export interface Sent extends Answer {
  readonly route: Route;
}

export interface PoolUser {
  readonly username: string;
  readonly email: string;
  readonly password: string;
}

/** How one refresh chain ended (CONTRACT sections 4 and 9). */
export interface Chain {
  readonly door: "graphql" | "token";
  /** The session the chain's login started (the access token's `sid`). */
  sid?: string;
  refreshes: number;
  /** `refused`: a refresh with the chain's current token met "Invalid refresh token". */
  end: "running" | "completed" | "refused" | "stopped" | "failed";
  /** When the current token was first presented. */
  presentedAt?: number;
  /** The current token's earlier presentations got no clear answer (outage, reset, timeout): it may already be spent. */
  ambiguous: boolean;
  refusedAt?: number;
}

export interface LoadPlan {
  readonly port: number;
  /** Whether clients may start another request; once false, each finishes its current one and stops. */
  readonly running: () => boolean;
  readonly users: readonly PoolUser[];
  /** Access tokens of the pool's users, for `me`. */
  readonly tokens: readonly string[];
  readonly meClients: number;
  readonly chainClients: number;
  readonly mixedClients: number;
  /** Per-request bound of the client: past it a request counts as a timeout. */
  readonly timeoutMs: number;
  /**
   * The bound for requests that verify or hash a password (logins, registrations): a login may
   * wait up to MAX_QUEUE_WAIT_MS for the hash queue and then be hashed, so the server's own bound
   * on a silent socket applies, not the client's.
   */
  readonly hashTimeoutMs: number;
}

/** Refreshes per chain before it logs out and a new chain starts. */
export const CHAIN_LENGTH = 20;
/** Wait between a chain's refreshes, and before retrying a refresh that got no clear answer. */
const CHAIN_PAUSE_MS = 250;
const RETRY_PAUSE_MS = 500;

const ME = "query Me { me { id username } }";
const LOGIN = "mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken refreshToken } }";
const REFRESH = "mutation Refresh($t: String!) { refresh(refreshToken: $t) { accessToken refreshToken } }";
const LOGOUT = "mutation Logout($t: String!) { logout(refreshToken: $t) }";
const REGISTER = "mutation Register($u: String!, $e: String!, $p: String!) { register(username: $u, email: $e, password: $p) { id } }";
const RESET = "mutation Reset($e: String!) { requestPasswordReset(email: $e) }";

/** A password no blocklist holds. */
export function freshPassword(): string {
  return `soak-${randomBytes(12).toString("base64url")}`;
}

/** The pair an answer carries (either door), or undefined. */
export function pairOf(answer: Answer): { access: string; refresh: string } | undefined {
  const body = answer.body;
  const payload = body?.data?.login ?? body?.data?.refresh;
  if (answer.status === 200 && typeof payload?.accessToken === "string")
    return { access: payload.accessToken, refresh: payload.refreshToken };
  if (answer.status === 200 && typeof body?.access_token === "string") return { access: body.access_token, refresh: body.refresh_token };
  return undefined;
}

/** Whether a refresh answer is the contract's refusal: "Invalid refresh token" (GraphQL) or invalid_grant (/token). */
export function isRefusal(answer: Answer): boolean {
  if (answer.body?.error === "invalid_grant") return true;
  const error = answer.body?.errors?.[0];
  return answer.status === 200 && error?.extensions?.code === "UNAUTHENTICATED" && error?.message === "Invalid refresh token";
}

/** The `sid` claim of an access token (read, not verified: the server verified it). */
export function sessionOf(accessToken: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString("utf8")) as { sid?: unknown };
    return typeof claims.sid === "string" ? claims.sid : undefined;
  } catch {
    return undefined;
  }
}

export function registerUser(target: Target, user: PoolUser): Promise<Answer> {
  return graphql(target, REGISTER, { u: user.username, e: user.email, p: user.password }, { "x-forwarded-for": someAddress() });
}

export function loginUser(target: Target, user: PoolUser, address = someAddress()): Promise<Answer> {
  return graphql(target, LOGIN, { u: user.username, p: user.password }, { "x-forwarded-for": address });
}

export function askMe(target: Target, token: string): Promise<Answer> {
  return graphql(target, ME, {}, { authorization: `Bearer ${token}` });
}

/** Runs every virtual client while `plan.running()`; resolves with every request sent and every chain. */
export async function runMixedLoad(plan: LoadPlan): Promise<{ sent: Sent[]; chains: Chain[] }> {
  const sent: Sent[] = [];
  const chains: Chain[] = [];
  const running = plan.running;
  const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;
  const record = async (route: Route, request: Promise<Answer>) => {
    const answer = await request;
    sent.push({ route, ...answer });
    return answer;
  };

  const meClient = async () => {
    const target = { port: plan.port, agent: clientAgent(), timeoutMs: plan.timeoutMs };
    while (running()) {
      await record("me", askMe(target, pick(plan.tokens)));
      await sleep(20);
    }
    target.agent.destroy();
  };

  const chainClient = async (index: number) => {
    const target = { port: plan.port, agent: clientAgent(), timeoutMs: plan.timeoutMs };
    for (let n = 0; running(); n += 1) {
      const chain: Chain = { door: (index + n) % 2 === 0 ? "graphql" : "token", refreshes: 0, end: "running", ambiguous: false };
      chains.push(chain);
      await runChain(target, plan.hashTimeoutMs, chain, pick(plan.users), running, record);
    }
    target.agent.destroy();
  };

  const mixedClient = async () => {
    const target = { port: plan.port, agent: clientAgent(), timeoutMs: plan.timeoutMs };
    const hashing = { ...target, timeoutMs: plan.hashTimeoutMs };
    for (let n = 0; running(); n += 1) {
      const user = pick(plan.users);
      const roll = Math.random();
      const address = { "x-forwarded-for": someAddress() };
      if (roll < 0.2) await record("login", loginUser(hashing, user));
      else if (roll < 0.35) {
        await record(
          "token-password",
          tokenForm(hashing, { grant_type: "password", username: user.username, password: user.password }, address),
        );
      } else if (roll < 0.65) {
        // A throwaway username: a wrong login that spends no real user's failed-login budget.
        const nobody = { ...user, username: `soak-nobody-${randomBytes(6).toString("hex")}`, password: freshPassword() };
        await record("login-wrong", loginUser(hashing, nobody));
      } else if (roll < 0.8) {
        const fresh = {
          username: `soak-r-${randomBytes(6).toString("hex")}`,
          email: `soak-r-${n}@example.test`,
          password: freshPassword(),
        };
        await record("register", registerUser(hashing, fresh));
      } else {
        // Known addresses (mailed, at most three an hour each) and unknown ones (never mailed), answered alike.
        const email = Math.random() < 0.5 ? user.email : `soak-unknown-${n}@example.test`;
        await record("reset-request", graphql(target, RESET, { e: email }, address));
      }
      await sleep(400);
    }
    target.agent.destroy();
  };

  await Promise.all([
    ...Array.from({ length: plan.meClients }, () => meClient()),
    ...Array.from({ length: plan.chainClients }, (_, i) => chainClient(i)),
    ...Array.from({ length: plan.mixedClients }, () => mixedClient()),
  ]);
  return { sent, chains };
}

/**
 * One chain: a login, then refreshes, each with the latest refresh token. A refresh that gets no
 * clear answer (an outage, a reset connection, a timeout) is retried with the SAME token, soon,
 * so that one whose answer was lost is answered with the same child (REFRESH_TOKEN_REUSE_INTERVAL).
 * Between refreshes the chain asks `me` with its latest access token.
 */
async function runChain(
  target: Target,
  hashTimeoutMs: number,
  chain: Chain,
  user: PoolUser,
  running: () => boolean,
  record: (route: Route, request: Promise<Answer>) => Promise<Answer>,
): Promise<void> {
  const address = someAddress();
  const viaToken = chain.door === "token";
  const hashing = { ...target, timeoutMs: hashTimeoutMs };
  let pair: { access: string; refresh: string } | undefined;
  while (!pair) {
    if (!running()) return void (chain.end = "stopped");
    const answer = viaToken
      ? await record(
          "token-password",
          tokenForm(hashing, { grant_type: "password", username: user.username, password: user.password }, { "x-forwarded-for": address }),
        )
      : await record("login", loginUser(hashing, user, address));
    pair = pairOf(answer);
    if (!pair) await sleep(RETRY_PAUSE_MS);
  }
  chain.sid = sessionOf(pair.access);
  while (chain.refreshes < CHAIN_LENGTH) {
    await record("me", askMe(target, pair.access));
    await sleep(CHAIN_PAUSE_MS);
    chain.presentedAt = undefined;
    chain.ambiguous = false;
    for (;;) {
      if (!running()) return void (chain.end = "stopped");
      chain.presentedAt ??= performance.now();
      const answer = viaToken
        ? await record("token-refresh", tokenForm(target, { grant_type: "refresh_token", refresh_token: pair.refresh }))
        : await record("refresh", graphql(target, REFRESH, { t: pair.refresh }));
      const next = pairOf(answer);
      if (next) {
        pair = next;
        chain.refreshes += 1;
        break;
      }
      if (isRefusal(answer)) {
        chain.end = "refused";
        chain.refusedAt = answer.endedAt;
        return;
      }
      if (!isUnclear(answer)) return void (chain.end = "failed");
      chain.ambiguous = true;
      await sleep(RETRY_PAUSE_MS);
    }
  }
  chain.end = "completed";
  await record("logout", graphql(target, LOGOUT, { t: pair.refresh }));
}

/** An answer that says nothing about the token: an outage, no answer at all. */
export function isUnclear(answer: Answer): boolean {
  if (answer.failure !== undefined && answer.status === undefined) return true;
  if (answer.status === 503) return true;
  const error = answer.body?.errors?.[0];
  return error?.message === "Service unavailable";
}
