/** Turns the measured rounds into the report's rows, ratios, memory figures and target verdicts. */
import { type LoadResult, median } from "./load";
import { type BenchReport, type Row, type Target } from "./report";
import { pairedRatio, type Measured } from "./rounds";
import { type BenchOptions, type login, type scaling, type storm, type throughput } from "./sections";

type Memory = { rssMiB: number; peakMiB: number } | undefined;

export interface Measurements {
  readonly options: BenchOptions;
  readonly quick: boolean;
  readonly throughput: Awaited<ReturnType<typeof throughput>>;
  readonly login: Awaited<ReturnType<typeof login>>;
  readonly storm: Awaited<ReturnType<typeof storm>>;
  readonly scaling: Awaited<ReturnType<typeof scaling>>;
  readonly memory: { readonly idle: { auth: Memory; plain: Memory }; readonly after: { auth: Memory; plain: Memory } };
}

/** Targets of the issue: CONTRACT section 8 on a 2-core machine. */
export const TARGET = { me: 0.9, login: 0.9, stormP99: 3, rssMiB: 200 } as const;

const rps = (r: LoadResult) => r.requestsPerSecond;
const p99 = (r: LoadResult) => r.p99Ms;
const cpu = (r: LoadResult) => r.cpuUsPerRequest;
const x = (ratio: number) => (Number.isFinite(ratio) ? `${ratio.toFixed(2)} ×` : "n/a");

function row(label: string, m: Measured, comparison?: string): Row {
  return { label, requestsPerSecond: m.requestsPerSecond, p50Ms: m.p50Ms, p99Ms: m.p99Ms, cpuUsPerRequest: m.cpuUsPerRequest, comparison };
}

function fromResults(results: readonly LoadResult[]): Measured {
  return {
    requestsPerSecond: median(results.map(rps)),
    p50Ms: median(results.map((r) => r.p50Ms)),
    p99Ms: median(results.map(p99)),
    cpuUsPerRequest: median(results.map(cpu)),
    rounds: results,
  };
}

export function summarize(m: Measurements): Omit<BenchReport, "machine" | "extras"> {
  const { options: o } = m;
  const tp = m.throughput.measured;
  const lg = m.login.measured;
  const st = m.storm.measured;
  const sc = m.scaling;
  const policy = `m=${o.argon2.memoryCost},t=${o.argon2.timeCost},p=${o.argon2.parallelism}`;

  // req/s ratios are the targets; CPU-per-request ratios (plain's cost over ours) say the same
  // without depending on how much of the shared machine each round got.
  const ratios = {
    "me / plain": pairedRatio(tp["auth me"], tp["plain me"], rps),
    "me without sid / plain": pairedRatio(tp["auth me without sid"], tp["plain me"], rps),
    "me with sid / without sid (the session check)": pairedRatio(tp["auth me"], tp["auth me without sid"], rps),
    "myItems / plain": pairedRatio(tp["auth myItems"], tp["plain myItems"], rps),
    "me (LOG_LEVEL=warn) / plain": pairedRatio(tp["auth me quiet"], tp["plain me"], rps),
    "myItems (LOG_LEVEL=warn) / plain": pairedRatio(tp["auth myItems quiet"], tp["plain myItems"], rps),
    "me CPU efficiency (plain CPU per request / ours)": pairedRatio(tp["plain me"], tp["auth me"], cpu),
    "me (LOG_LEVEL=warn) CPU efficiency": pairedRatio(tp["plain me"], tp["auth me quiet"], cpu),
    "login / raw argon2": pairedRatio(lg.login, lg["raw argon2"], rps),
    "me p99 beside argon2 logins / alone": pairedRatio(st["me + argon2 logins"], st["me alone"], p99),
    "me p99 beside bcrypt logins / alone": pairedRatio(st["me + bcrypt logins"], st["me alone"], p99),
    "WEB_CONCURRENCY=2 / 1": sc.available ? pairedRatio(sc.measured["2 workers"], sc.measured["1 worker"], rps) : NaN,
  };
  const vsPlain = (ratio: number, cpuRatio?: number) =>
    `${x(ratio)} plain${cpuRatio === undefined ? "" : `; CPU efficiency ${x(cpuRatio)}`}`;

  const sections: BenchReport["sections"] = [
    {
      title: `Unpinned: \`me\` and \`myItems\` against a plain Apollo Server (${o.connections} connections, autocannon in the runner)`,
      note:
        "Unpinned: the servers and the load generator (autocannon in the bench's own process) share both cores, as they fall. " +
        "Plain: Apollo Server 5 on Fastify 5 answering the same query with a constant. graphql-auth-server: NODE_ENV=production, a fresh SQLite database, " +
        "a real HS256 token from login, its user and session read from the database on every request (one query); " +
        "the row without `sid` uses a token minted with the same key and no session: the same query " +
        "finds no session to check. CPU: the server process's CPU time per response (all threads).",
      rows: [
        row("plain Apollo: `me`", tp["plain me"]),
        row(
          "graphql-auth-server: `me` (LOG_LEVEL=info, the default)",
          tp["auth me"],
          vsPlain(ratios["me / plain"], ratios["me CPU efficiency (plain CPU per request / ours)"]),
        ),
        row(
          "graphql-auth-server: `me`, a token without `sid` (no session check)",
          tp["auth me without sid"],
          `${vsPlain(ratios["me without sid / plain"])}; ` + `with sid ${x(ratios["me with sid / without sid (the session check)"])} this`,
        ),
        row(
          "graphql-auth-server: `me` (LOG_LEVEL=warn)",
          tp["auth me quiet"],
          vsPlain(ratios["me (LOG_LEVEL=warn) / plain"], ratios["me (LOG_LEVEL=warn) CPU efficiency"]),
        ),
        row("plain Apollo: `myItems`", tp["plain myItems"]),
        row("graphql-auth-server: `myItems` (LOG_LEVEL=info)", tp["auth myItems"], vsPlain(ratios["myItems / plain"])),
        row(
          "graphql-auth-server: `myItems` (LOG_LEVEL=warn)",
          tp["auth myItems quiet"],
          vsPlain(ratios["myItems (LOG_LEVEL=warn) / plain"]),
        ),
      ],
    },
    {
      title: `\`login\` against raw argon2id verification (${policy}, ${o.loginConnections} at once)`,
      note: "Raw: the argon2 package verifying a hash of the same parameters in one process, with the same number of callers at once.",
      rows: [row("raw argon2 verify", lg["raw argon2"]), row("`login`", lg.login, `${x(ratios["login / raw argon2"])} raw`)],
    },
    {
      title: `\`me\` latency during a login storm (\`me\` at ${o.connections} connections, logins at ${o.loginConnections})`,
      note: "Legacy logins verify bcrypt cost 12, then re-hash to argon2id, each on a user not logged in before.",
      rows: [
        row("`me` alone", st["me alone"]),
        row("`me` beside argon2id logins", st["me + argon2 logins"], `p99 ${x(ratios["me p99 beside argon2 logins / alone"])} alone`),
        row("`me` beside bcrypt logins", st["me + bcrypt logins"], `p99 ${x(ratios["me p99 beside bcrypt logins / alone"])} alone`),
        row("argon2id logins beside `me`", fromResults(m.storm.logins.argon2 ?? [])),
        row("bcrypt logins beside `me`", fromResults(m.storm.logins.bcrypt ?? [])),
      ],
    },
    {
      title: `\`me\` with WEB_CONCURRENCY=2 against 1 (\`node dist/main.js\`, ${o.connections} connections)`,
      note: sc.available
        ? "CPU: primary and workers together."
        : "n/a (WEB_CONCURRENCY not available): `node dist/main.js` with WEB_CONCURRENCY=2 started no worker processes.",
      rows: sc.available
        ? [
            row("1 worker", sc.measured["1 worker"]),
            row("2 workers", sc.measured["2 workers"], `${x(ratios["WEB_CONCURRENCY=2 / 1"])} 1 worker`),
          ]
        : [],
    },
  ];

  const peaks = m.throughput.peakRssMiB;
  const workerPeaks = sc.available ? sc.workerPeakRssMiB : [];
  const underLoad = [peaks.auth, m.login.peakRssMiB, m.storm.peakRssMiB, ...workerPeaks].filter(Number.isFinite);
  const maxUnderLoad = underLoad.length ? Math.max(...underLoad) : NaN;
  const memory: Record<string, number | string> = {
    "graphql-auth-server idle, after start-up": m.memory.idle.auth?.rssMiB ?? "n/a",
    "graphql-auth-server under `me`/`myItems` load (highest sample)": peaks.auth,
    "graphql-auth-server under `login` load (highest sample)": m.login.peakRssMiB,
    "graphql-auth-server during login storms beside `me` (highest sample)": m.storm.peakRssMiB,
    "graphql-auth-server after all load": m.memory.after.auth?.rssMiB ?? "n/a",
    "graphql-auth-server LOG_LEVEL=warn under load (highest sample)": peaks.authQuiet,
    "plain Apollo idle": m.memory.idle.plain?.rssMiB ?? "n/a",
    "plain Apollo under load (highest sample)": peaks.plain,
    "WEB_CONCURRENCY=2: each worker under `me` load": workerPeaks.length ? workerPeaks.map((v) => v.toFixed(1)).join(", ") : "n/a",
  };

  const meets = (ratio: number, ok: (r: number) => boolean) => (Number.isFinite(ratio) ? ok(ratio) : undefined);
  const targets: Target[] = [
    {
      target: `\`me\` ≥ ${TARGET.me} × plain (unpinned, LOG_LEVEL=info)`,
      measured: x(ratios["me / plain"]),
      met: meets(ratios["me / plain"], (r) => r >= TARGET.me),
    },
    {
      target: `\`me\` ≥ ${TARGET.me} × plain (unpinned, LOG_LEVEL=warn)`,
      measured: x(ratios["me (LOG_LEVEL=warn) / plain"]),
      met: meets(ratios["me (LOG_LEVEL=warn) / plain"], (r) => r >= TARGET.me),
    },
    {
      target: `\`myItems\` ≥ ${TARGET.me} × plain (unpinned, LOG_LEVEL=info)`,
      measured: x(ratios["myItems / plain"]),
      met: meets(ratios["myItems / plain"], (r) => r >= TARGET.me),
    },
    {
      target: `\`login\` ≥ ${TARGET.login} × raw argon2`,
      measured: x(ratios["login / raw argon2"]),
      met: meets(ratios["login / raw argon2"], (r) => r >= TARGET.login),
    },
    ...(["argon2", "bcrypt"] as const).map((kind) => {
      const ratio = ratios[`me p99 beside ${kind} logins / alone`];
      return {
        target: `\`me\` p99 beside ${kind} logins ≤ ${TARGET.stormP99} × alone`,
        measured: x(ratio),
        met: meets(ratio, (r) => r <= TARGET.stormP99),
      };
    }),
    {
      target: `RSS under load < ${TARGET.rssMiB} MiB a worker`,
      measured: `${maxUnderLoad.toFixed(1)} MiB at most`,
      met: meets(maxUnderLoad, (r) => r < TARGET.rssMiB),
    },
    {
      target: "WEB_CONCURRENCY=2 scaling factor (reported, no target)",
      measured: sc.available ? x(ratios["WEB_CONCURRENCY=2 / 1"]) : "n/a (WEB_CONCURRENCY not available)",
      met: undefined,
    },
  ];

  return {
    settings: {
      quick: m.quick,
      rounds: o.rounds,
      "seconds a round": o.seconds,
      connections: o.connections,
      "login connections": o.loginConnections,
      "argon2 policy": policy,
    },
    sections,
    ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, Number.isFinite(v) ? Number(v.toFixed(3)) : "n/a"])),
    memory,
    targets,
    details: { throughput: m.throughput, login: m.login, storm: m.storm, scaling: m.scaling },
  };
}
