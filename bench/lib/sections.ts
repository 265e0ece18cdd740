/** The bench's measurements: throughput against plain Apollo, login against raw argon2, the storm, scaling. */
import { setTimeout as sleep } from "node:timers/promises";
import type { RawArgon2Options, RawArgon2Result } from "../servers/raw-argon2";
import { graphql, percentile, runLoad, type LoadResult, type LoadSpec } from "./load";
import { childrenOf, memoryOf, runChild, spawnMain, type ServerProcess } from "./processes";
import { alternate, pairedRatio, type Measured } from "./rounds";

export const ME_QUERY = "{ me { id username email fullName disabled scopes } }";
export const ITEMS_QUERY = "{ myItems { itemId owner } }";
export const LOGIN_MUTATION =
  "mutation Login($username: String!, $password: String!) { login(username: $username, password: $password) { accessToken } }";

export interface BenchOptions {
  readonly rounds: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly loginConnections: number;
  readonly argon2: { readonly memoryCost: number; readonly timeCost: number; readonly parallelism: number };
}

export interface Servers {
  readonly plain: ServerProcess;
  /** graphql-auth-server at the default LOG_LEVEL (info: one line per request). */
  readonly auth: ServerProcess;
  /** The same at LOG_LEVEL=warn, to show what request logging costs. */
  readonly authQuiet: ServerProcess;
  readonly token: string;
  readonly quietToken: string;
  readonly password: string;
  readonly username: string;
  /** The next never-used legacy (bcrypt) user's login variables. */
  nextLegacy(): Record<string, unknown>;
}

type Progress = (line: string) => void;

/** Checks once that a load's request is answered with data, not errors (GraphQL errors come as 200). */
export async function expectData(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<any> {
  const body = await graphql(url, query, variables, token);
  if (!body.data || body.errors) throw new Error(`${url}: ${query.slice(0, 40)} answered ${JSON.stringify(body).slice(0, 300)}`);
  return body.data;
}

/** `me` and `myItems` on graphql-auth-server against the plain server, same connections and rounds. */
export async function throughput(o: BenchOptions, s: Servers, progress: Progress) {
  const spec = (server: ServerProcess, query: string, token?: string, seconds = o.seconds): LoadSpec => ({ url: server.url, query, token, connections: o.connections, seconds });
  const loads = {
    "plain me": (sec?: number) => spec(s.plain, ME_QUERY, undefined, sec),
    "auth me": (sec?: number) => spec(s.auth, ME_QUERY, s.token, sec),
    "auth me quiet": (sec?: number) => spec(s.authQuiet, ME_QUERY, s.quietToken, sec),
    "plain myItems": (sec?: number) => spec(s.plain, ITEMS_QUERY, undefined, sec),
    "auth myItems": (sec?: number) => spec(s.auth, ITEMS_QUERY, s.token, sec),
    "auth myItems quiet": (sec?: number) => spec(s.authQuiet, ITEMS_QUERY, s.quietToken, sec),
  };
  type Key = keyof typeof loads;
  const keys = Object.keys(loads) as Key[];
  return alternate(
    keys,
    o.rounds,
    (k) => runLoad(loads[k]()),
    (k) => runLoad(loads[k](o.warmupSeconds)),
    progress,
  );
}

/** `login` (argon2id at the policy) against the argon2 package verifying alone, same concurrency. */
export async function login(o: BenchOptions, s: Servers, progress: Progress) {
  const raw = async (seconds: number): Promise<LoadResult> => {
    const options: RawArgon2Options = { concurrency: o.loginConnections, seconds, ...o.argon2 };
    const r = await runChild<RawArgon2Result>("raw-argon2.js", [JSON.stringify(options)]);
    return { requestsPerSecond: r.count / r.seconds, p50Ms: percentile(r.latencies, 50), p99Ms: percentile(r.latencies, 99), responses: r.count, failures: 0 };
  };
  const loginLoad = (seconds: number) =>
    runLoad({ url: s.auth.url, query: LOGIN_MUTATION, variables: { username: s.username, password: s.password }, connections: o.loginConnections, seconds });
  return alternate(
    ["raw argon2", "login"] as const,
    o.rounds,
    (k) => (k === "login" ? loginLoad(o.seconds) : raw(o.seconds)),
    (k) => (k === "login" ? loginLoad(o.warmupSeconds) : raw(o.warmupSeconds)),
    progress,
  );
}

/** `me` alone, then with a storm of argon2 logins beside it, then of legacy bcrypt cost-12 logins. */
export async function storm(o: BenchOptions, s: Servers, progress: Progress) {
  const me = () => runLoad({ url: s.auth.url, query: ME_QUERY, token: s.token, connections: o.connections, seconds: o.seconds });
  const logins: Record<string, () => Promise<LoadResult>> = {
    argon2: () =>
      runLoad({ url: s.auth.url, query: LOGIN_MUTATION, variables: { username: s.username, password: s.password }, connections: o.loginConnections, seconds: o.seconds }),
    bcrypt: () => runLoad({ url: s.auth.url, query: LOGIN_MUTATION, nextVariables: s.nextLegacy, connections: o.loginConnections, seconds: o.seconds }),
  };
  const beside: Record<string, LoadResult[]> = { argon2: [], bcrypt: [] };
  const measured = await alternate(
    ["me alone", "me + argon2 logins", "me + bcrypt logins"] as const,
    o.rounds,
    async (k) => {
      if (k === "me alone") return me();
      const kind = k === "me + argon2 logins" ? "argon2" : "bcrypt";
      const [meResult, loginResult] = await Promise.all([me(), logins[kind]!()]);
      if (loginResult.failures > 0 || loginResult.responses === 0) throw new Error(`${kind} logins failed during the storm`);
      beside[kind]!.push(loginResult);
      return meResult;
    },
    undefined,
    progress,
  );
  return { measured, logins: beside };
}

/** `me` on `node dist/main.js` with WEB_CONCURRENCY=1 and =2 over the same database. */
export async function scaling(
  o: BenchOptions,
  env: Record<string, string>,
  cwd: string,
  token: string,
  progress: Progress,
): Promise<{ available: false } | { available: true; measured: Record<"1 worker" | "2 workers", Measured>; workerPeakMiB: number[] }> {
  const one = await spawnMain("main-1", { ...env, WEB_CONCURRENCY: "1" }, cwd, "ignore");
  const two = await spawnMain("main-2", { ...env, WEB_CONCURRENCY: "2" }, cwd, "ignore");
  try {
    // Give the second worker time to listen: /readyz answered as soon as the first did.
    await sleep(2000);
    const workers = childrenOf(two.pid);
    if (workers.length < 2) return { available: false };
    const servers = { "1 worker": one, "2 workers": two } as const;
    await expectData(one.url, ME_QUERY, undefined, token);
    const load = (k: keyof typeof servers, seconds: number) => runLoad({ url: servers[k].url, query: ME_QUERY, token, connections: o.connections, seconds });
    const measured = await alternate(
      ["1 worker", "2 workers"] as const,
      o.rounds,
      (k) => load(k, o.seconds),
      (k) => load(k, o.warmupSeconds),
      progress,
    );
    return { available: true, measured, workerPeakMiB: workers.map((pid) => memoryOf(pid)?.peakMiB ?? NaN) };
  } finally {
    await one.stop();
    await two.stop();
  }
}

export { pairedRatio };
