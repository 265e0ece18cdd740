/** The bench's measurements: throughput against plain Apollo, login against raw argon2, the storm, scaling. */
import { setTimeout as sleep } from "node:timers/promises";
import type { RawArgon2Options, RawArgon2Result } from "../servers/raw-argon2";
import { graphql, percentile, runLoad, type LoadResult, type LoadSpec } from "./load";
import { childrenOf, runChild, sampleMemory, settle, spawnMain, type ServerProcess } from "./processes";
import { alternate, type Measured } from "./rounds";

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
  /** From the real login: names its session (`sid`), which every request then checks. */
  readonly token: string;
  /** Minted without `sid` for the same user: judged the old way, with no session check. */
  readonly noSidToken: string;
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

const spec = (server: ServerProcess, query: string, connections: number, seconds: number, token?: string): LoadSpec => ({
  url: server.url,
  query,
  token,
  connections,
  seconds,
  serverPids: [server.pid],
});

/** `me` and `myItems` on graphql-auth-server against the plain server, same connections and rounds. */
export async function throughput(o: BenchOptions, s: Servers, progress: Progress) {
  const loads = {
    "plain me": (sec: number) => spec(s.plain, ME_QUERY, o.connections, sec),
    "auth me": (sec: number) => spec(s.auth, ME_QUERY, o.connections, sec, s.token),
    "auth me without sid": (sec: number) => spec(s.auth, ME_QUERY, o.connections, sec, s.noSidToken),
    "auth me quiet": (sec: number) => spec(s.authQuiet, ME_QUERY, o.connections, sec, s.quietToken),
    "plain myItems": (sec: number) => spec(s.plain, ITEMS_QUERY, o.connections, sec),
    "auth myItems": (sec: number) => spec(s.auth, ITEMS_QUERY, o.connections, sec, s.token),
    "auth myItems quiet": (sec: number) => spec(s.authQuiet, ITEMS_QUERY, o.connections, sec, s.quietToken),
  };
  type Key = keyof typeof loads;
  const memory = sampleMemory([s.auth.pid, s.authQuiet.pid, s.plain.pid]);
  const measured = await alternate(
    Object.keys(loads) as Key[],
    o.rounds,
    (k) => runLoad(loads[k](o.seconds)),
    (k) => runLoad(loads[k](o.warmupSeconds)),
    progress,
  );
  const [auth, authQuiet, plain] = memory.stop();
  return { measured, peakRssMiB: { auth: auth!, authQuiet: authQuiet!, plain: plain! } };
}

/** `login` (argon2id at the policy) against the argon2 package verifying alone, same concurrency. */
export async function login(o: BenchOptions, s: Servers, progress: Progress) {
  const raw = async (seconds: number): Promise<LoadResult> => {
    const options: RawArgon2Options = { concurrency: o.loginConnections, seconds, ...o.argon2 };
    const r = await runChild<RawArgon2Result>("raw-argon2.js", [JSON.stringify(options)]);
    return {
      requestsPerSecond: r.count / r.seconds,
      p50Ms: percentile(r.latencies, 50),
      p99Ms: percentile(r.latencies, 99),
      responses: r.count,
      failures: 0,
      cpuUsPerRequest: (r.cpuSeconds / r.count) * 1e6,
    };
  };
  const variables = { username: s.username, password: s.password };
  const loginLoad = (seconds: number) => runLoad({ ...spec(s.auth, LOGIN_MUTATION, o.loginConnections, seconds), variables });
  const memory = sampleMemory([s.auth.pid]);
  const measured = await alternate(
    ["raw argon2", "login"] as const,
    o.rounds,
    (k) => (k === "login" ? loginLoad(o.seconds) : raw(o.seconds)),
    (k) => (k === "login" ? loginLoad(o.warmupSeconds) : raw(o.warmupSeconds)),
    progress,
    () => settle([s.auth.pid]),
  );
  return { measured, peakRssMiB: memory.stop()[0]! };
}

/** `me` alone, then with a storm of argon2 logins beside it, then of legacy bcrypt cost-12 logins. */
export async function storm(o: BenchOptions, s: Servers, progress: Progress) {
  const me = () => runLoad(spec(s.auth, ME_QUERY, o.connections, o.seconds, s.token));
  const logins: Record<string, () => Promise<LoadResult>> = {
    argon2: () =>
      runLoad({
        ...spec(s.auth, LOGIN_MUTATION, o.loginConnections, o.seconds),
        variables: { username: s.username, password: s.password },
      }),
    bcrypt: () => runLoad({ ...spec(s.auth, LOGIN_MUTATION, o.loginConnections, o.seconds), nextVariables: s.nextLegacy }),
  };
  const beside: Record<string, LoadResult[]> = { argon2: [], bcrypt: [] };
  const memory = sampleMemory([s.auth.pid]);
  const measured = await alternate(
    ["me alone", "me + argon2 logins", "me + bcrypt logins"] as const,
    o.rounds,
    async (k) => {
      if (k === "me alone") return me();
      const kind = k === "me + argon2 logins" ? "argon2" : "bcrypt";
      const [meResult, loginResult] = await Promise.all([me(), logins[kind]!()]);
      if (loginResult.failures > 0) throw new Error(`${kind} logins failed during the storm: ${loginResult.failures} of them`);
      // On a busy machine the niced hash threads may finish no login within the round: the storm
      // still happened (the logins were hashing), so `me`'s figure stands and the login row says 0.
      if (loginResult.responses === 0)
        progress(`note: no ${kind} login was answered within the round (the hash threads yield to other jobs)`);
      beside[kind]!.push(loginResult);
      // The CPU time of the process covered both loads: it is not `me`'s alone.
      return { ...meResult, cpuUsPerRequest: NaN };
    },
    undefined,
    progress,
    () => settle([s.auth.pid]),
  );
  return { measured, logins: beside, peakRssMiB: memory.stop()[0]! };
}

/** `me` on `node dist/main.js` with WEB_CONCURRENCY=1 and =2 over the same database. */
export async function scaling(
  o: BenchOptions,
  env: Record<string, string>,
  cwd: string,
  token: string,
  progress: Progress,
): Promise<{ available: false } | { available: true; measured: Record<"1 worker" | "2 workers", Measured>; workerPeakRssMiB: number[] }> {
  const one = await spawnMain("main-1", { ...env, WEB_CONCURRENCY: "1" }, cwd, "ignore");
  const two = await spawnMain("main-2", { ...env, WEB_CONCURRENCY: "2" }, cwd, "ignore");
  try {
    // Give the second worker time to listen: /readyz answered as soon as the first did.
    await sleep(2000);
    const workers = childrenOf(two.pid);
    if (workers.length < 2) return { available: false };
    const pids = { "1 worker": [one.pid, ...childrenOf(one.pid)], "2 workers": [two.pid, ...workers] } as const;
    const servers = { "1 worker": one, "2 workers": two } as const;
    await expectData(one.url, ME_QUERY, undefined, token);
    await expectData(two.url, ME_QUERY, undefined, token);
    const load = (k: keyof typeof servers, seconds: number) =>
      runLoad({ ...spec(servers[k], ME_QUERY, o.connections, seconds, token), serverPids: pids[k] });
    const memory = sampleMemory(workers);
    const measured = await alternate(
      ["1 worker", "2 workers"] as const,
      o.rounds,
      (k) => load(k, o.seconds),
      (k) => load(k, o.warmupSeconds),
      progress,
    );
    return { available: true, measured, workerPeakRssMiB: memory.stop() };
  } finally {
    await one.stop();
    await two.stop();
  }
}
