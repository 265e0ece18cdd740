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
const TARGET = { me: 0.9, login: 0.9, stormP99: 3, rssMiB: 200 } as const;

const rps = (r: LoadResult) => r.requestsPerSecond;
const p99 = (r: LoadResult) => r.p99Ms;
const x = (ratio: number) => (Number.isFinite(ratio) ? `${ratio.toFixed(2)} ×` : "n/a");

function row(label: string, m: Measured, comparison?: string): Row {
  return { label, requestsPerSecond: m.requestsPerSecond, p50Ms: m.p50Ms, p99Ms: m.p99Ms, comparison };
}

function fromResults(results: readonly LoadResult[]): Measured {
  return {
    requestsPerSecond: median(results.map(rps)),
    p50Ms: median(results.map((r) => r.p50Ms)),
    p99Ms: median(results.map(p99)),
    rounds: results,
  };
}

export function summarize(m: Measurements): Omit<BenchReport, "machine" | "extras"> {
  const { options: o } = m;
  const tp = m.throughput;
  const lg = m.login;
  const st = m.storm.measured;
  const policy = `m=${o.argon2.memoryCost},t=${o.argon2.timeCost},p=${o.argon2.parallelism}`;

  const ratios = {
    "me / plain": pairedRatio(tp["auth me"], tp["plain me"], rps),
    "myItems / plain": pairedRatio(tp["auth myItems"], tp["plain myItems"], rps),
    "me (LOG_LEVEL=warn) / plain": pairedRatio(tp["auth me quiet"], tp["plain me"], rps),
    "myItems (LOG_LEVEL=warn) / plain": pairedRatio(tp["auth myItems quiet"], tp["plain myItems"], rps),
    "login / raw argon2": pairedRatio(lg.login, lg["raw argon2"], rps),
    "me p99 beside argon2 logins / alone": pairedRatio(st["me + argon2 logins"], st["me alone"], p99),
    "me p99 beside bcrypt logins / alone": pairedRatio(st["me + bcrypt logins"], st["me alone"], p99),
  };
  const sc = m.scaling;
  const scalingFactor = sc.available ? pairedRatio(sc.measured["2 workers"], sc.measured["1 worker"], rps) : NaN;

  const sections: BenchReport["sections"] = [
    {
      title: `\`me\` and \`myItems\` against a plain Apollo Server (${o.connections} connections)`,
      note: "Plain: Apollo Server 5 on Fastify 5 answering the same query with a constant. graphql-auth-server: production settings, a fresh SQLite database, a real HS256 token.",
      rows: [
        row("plain Apollo: `me`", tp["plain me"]),
        row("graphql-auth-server: `me` (LOG_LEVEL=info, the default)", tp["auth me"], `${x(ratios["me / plain"])} plain`),
        row("graphql-auth-server: `me` (LOG_LEVEL=warn)", tp["auth me quiet"], `${x(ratios["me (LOG_LEVEL=warn) / plain"])} plain`),
        row("plain Apollo: `myItems`", tp["plain myItems"]),
        row("graphql-auth-server: `myItems` (LOG_LEVEL=info)", tp["auth myItems"], `${x(ratios["myItems / plain"])} plain`),
        row("graphql-auth-server: `myItems` (LOG_LEVEL=warn)", tp["auth myItems quiet"], `${x(ratios["myItems (LOG_LEVEL=warn) / plain"])} plain`),
      ],
    },
    {
      title: `\`login\` against raw argon2id verification (${policy}, ${o.loginConnections} at once)`,
      note: "Raw: the argon2 package verifying a hash of the same parameters in one process, with the same number of callers at once.",
      rows: [row("raw argon2 verify", lg["raw argon2"]), row("`login`", lg.login, `${x(ratios["login / raw argon2"])} raw`)],
    },
    {
      title: `\`me\` latency during a login storm (\`me\` at ${o.connections} connections, logins at ${o.loginConnections})`,
      note: "Legacy logins verify bcrypt cost 12 and then re-hash to argon2id, each on a user not logged in before.",
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
      note: sc.available ? undefined : "n/a (WEB_CONCURRENCY not available): `node dist/main.js` with WEB_CONCURRENCY=2 started no worker processes.",
      rows: sc.available
        ? [row("1 worker", sc.measured["1 worker"]), row("2 workers", sc.measured["2 workers"], `${x(scalingFactor)} 1 worker`)]
        : [],
    },
  ];

  const authPeak = m.memory.after.auth?.peakMiB ?? NaN;
  const workerPeaks = sc.available ? sc.workerPeakMiB : [];
  const memory: Record<string, number | string> = {
    "graphql-auth-server idle (after start-up)": m.memory.idle.auth?.rssMiB ?? "n/a",
    "graphql-auth-server after load": m.memory.after.auth?.rssMiB ?? "n/a",
    "graphql-auth-server peak (under load)": m.memory.after.auth?.peakMiB ?? "n/a",
    "plain Apollo idle": m.memory.idle.plain?.rssMiB ?? "n/a",
    "plain Apollo peak (under load)": m.memory.after.plain?.peakMiB ?? "n/a",
    "WEB_CONCURRENCY=2: peak of each worker": workerPeaks.length ? workerPeaks.map((v) => v.toFixed(1)).join(", ") : "n/a",
  };
  const maxPeak = Math.max(authPeak, ...workerPeaks);

  const targets: Target[] = [
    { target: `\`me\` ≥ ${TARGET.me} × plain`, measured: x(ratios["me / plain"]), met: ratios["me / plain"] >= TARGET.me },
    { target: `\`myItems\` ≥ ${TARGET.me} × plain (same bar)`, measured: x(ratios["myItems / plain"]), met: ratios["myItems / plain"] >= TARGET.me },
    { target: `\`login\` ≥ ${TARGET.login} × raw argon2`, measured: x(ratios["login / raw argon2"]), met: ratios["login / raw argon2"] >= TARGET.login },
    ...(["argon2", "bcrypt"] as const).map((kind) => {
      const ratio = ratios[`me p99 beside ${kind} logins / alone`];
      return { target: `\`me\` p99 beside ${kind} logins ≤ ${TARGET.stormP99} × alone`, measured: x(ratio), met: ratio <= TARGET.stormP99 };
    }),
    { target: `RSS under load < ${TARGET.rssMiB} MiB a worker`, measured: `${maxPeak.toFixed(1)} MiB peak`, met: Number.isFinite(maxPeak) ? maxPeak < TARGET.rssMiB : undefined },
    {
      target: "WEB_CONCURRENCY=2 scaling factor (reported)",
      measured: sc.available ? x(scalingFactor) : "n/a (WEB_CONCURRENCY not available)",
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
    ratios: { ...ratios, "WEB_CONCURRENCY=2 / 1": sc.available ? scalingFactor : "n/a (WEB_CONCURRENCY not available)" },
    memory,
    targets,
    details: { throughput: m.throughput, login: m.login, storm: m.storm, scaling: m.scaling },
  };
}
