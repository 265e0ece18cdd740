/** The soak's figures (CONTRACT section 14) from what the run recorded, its pass rules, and the table it prints. */
import { type Answer } from "./http";
import { type Chain, type Sent } from "./load";
import { chainVerdict, isAllowed5xx, outcomeOf, percentile, verdictOf, type ChainVerdict, type Timeline } from "./verdicts";
import { HTTP_LIMITS } from "../../src/http/limits";
import { type FloodRun } from "./flood";
import { WINDOW_MS, type WindowMemory } from "./memory";

export interface SlotMemory {
  readonly slot: number;
  /** The slot's processes in order: a restarted worker adds its pid. */
  readonly pids: number[];
  startMiB: number;
  /** The window before the middle of the time after the faults, and the window before the load stops (memory.ts). */
  middle: WindowMemory;
  end: WindowMemory;
}

export interface RunRecord {
  readonly minutes: number;
  readonly settings: {
    hashConcurrency: number;
    argon2MemoryKiB: number;
    hashQueueMax: number;
    reuseIntervalS: number;
    maxQueueWaitMs: number;
  };
  readonly loadStart: number;
  readonly loadEnd: number;
  readonly timeline: Timeline;
  readonly sent: Sent[];
  readonly chains: Chain[];
  readonly reuseDetected: ReadonlySet<string>;
  readonly memory: SlotMemory[];
  readonly restartedAfterMs: number;
  readonly primaryAlive: boolean;
  readonly flood: FloodRun;
  /** Error-level lines in the server's log other than the primary's note of the killed worker. */
  readonly unexpectedLogErrors: string[];
  /** Whether a password the run used appears in the server's log. */
  readonly passwordInLog: boolean;
  readonly mailsReceived: number;
  readonly proxyResets: number;
}

/** The bound the flood's RSS is held to, beyond idle + HASH_CONCURRENCY × argon2 memory: the requests' own buffers, the heap's slack. */
export const FLOOD_MARGIN_MIB = 32;
/** `me` keeps its latency during the flood: its p50 at most this many times the idle p50, or this many ms above it. */
export const ME_FLOOD_FACTOR = 3;
export const ME_FLOOD_SLACK_MS = 20;
/** The end's RSS may exceed the middle's by this share at most (issue 19), each the lowest of its window. */
export const RSS_GROWTH = 0.1;

interface Latency {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface Rule {
  readonly rule: string;
  readonly pass: boolean;
  readonly detail: string;
}

function latency(answers: readonly Answer[]): Latency {
  const ms = answers.filter((a) => a.status !== undefined).map((a) => a.endedAt - a.sentAt);
  return { count: ms.length, p50Ms: round(percentile(ms, 50)), p99Ms: round(percentile(ms, 99)) };
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const roundWindow = (w: WindowMemory): WindowMemory => ({ lowMiB: round(w.lowMiB), highMiB: round(w.highMiB), samples: w.samples });
const countBy = <T>(items: readonly T[], key: (item: T) => string) =>
  Object.fromEntries(
    Object.entries(items.reduce<Record<string, number>>((acc, item) => ((acc[key(item)] = (acc[key(item)] ?? 0) + 1), acc), {})).sort(),
  );

/** Every figure the soak prints and writes, with the verdict of each rule. */
export function buildReport(run: RunRecord) {
  const t = run.timeline;
  const verdicts = run.sent.map((sent) => ({ sent, verdict: verdictOf(sent, t) }));
  const unexpected = verdicts.filter((v) => v.verdict === "unexpected").map((v) => v.sent);
  const fiveXX = run.sent.filter((s) => (s.status ?? 0) >= 500);
  const allowed5xx = fiveXX.filter((s) => isAllowed5xx(s, t));
  const chainVerdicts: ChainVerdict[] = run.chains.map((c) => chainVerdict(c, run.settings.reuseIntervalS * 1000, run.reuseDetected));
  const chains = countBy(chainVerdicts, (v) => v);
  const broken = chainVerdicts.filter((v) => v === "broken").length;
  const me = run.sent.filter((s) => s.route === "me");
  const hashing = run.sent.filter(
    (s) => ["login", "login-wrong", "token-password", "register"].includes(s.route) && s.status !== undefined,
  );
  const slowestHashingMs = round(Math.max(0, ...hashing.map((s) => s.endedAt - s.sentAt)), 0);
  const meWindows = {
    before: latency(me.filter((s) => s.sentAt < t.cutStart)),
    during: latency(me.filter((s) => s.sentAt >= t.cutStart && s.sentAt < t.faultsEnd)),
    after: latency(me.filter((s) => s.sentAt >= t.faultsEnd)),
  };

  const flood = run.flood;
  const hashMiB = (run.settings.hashConcurrency * run.settings.argon2MemoryKiB) / 1024;
  const boundMiB = flood.idleMiB.map((idle) => round(idle + hashMiB + FLOOD_MARGIN_MIB));
  const shed = flood.logins.filter((a) => a.status === 503 && a.body?.errors?.[0]?.extensions?.code === "SERVICE_UNAVAILABLE");
  const shedWithRetryAfter = shed.filter((a) => a.retryAfter !== undefined && Number(a.retryAfter) >= 1);
  const floodOk = flood.logins.filter((a) => a.status === 200 && typeof a.body?.data?.login?.accessToken === "string");
  const floodOther = flood.logins.filter((a) => !floodOk.includes(a) && !shedWithRetryAfter.includes(a));
  const floodSlowestMs = round(Math.max(...flood.logins.map((a) => a.endedAt - a.sentAt)), 0);
  // HASH_QUEUE_MAX already waiting: answered at once. A turn that came after MAX_QUEUE_WAIT_MS: answered then, unhashed.
  const waitedOut = (a: Answer) => a.endedAt - a.sentAt >= run.settings.maxQueueWaitMs;
  const shedAtOnce = shedWithRetryAfter.filter((a) => !waitedOut(a));
  const shedMs = shedAtOnce.map((a) => a.endedAt - a.sentAt);
  const meFlood = { before: latency(flood.meBefore), during: latency(flood.meDuring) };
  const meBound = Math.max(meFlood.before.p50Ms * ME_FLOOD_FACTOR, meFlood.before.p50Ms + ME_FLOOD_SLACK_MS);
  const meFloodFailures = [...flood.meBefore, ...flood.meDuring].filter((a) => a.status !== 200 || a.body?.errors);

  const rules: Rule[] = [
    {
      rule: "no 5xx but /token's 503 during the cut",
      pass: fiveXX.length === allowed5xx.length,
      detail: `${fiveXX.length} 5xx, ${allowed5xx.length} of them /token 503 within the cut (+${5} s grace)`,
    },
    {
      rule: "every answer is a success, a designed refusal, or the fault's own",
      pass: unexpected.length === 0,
      detail:
        unexpected.length === 0
          ? "none unexpected"
          : `${JSON.stringify(countBy(unexpected, outcomeOf))}; first sent at ` +
            unexpected
              .slice(0, 5)
              .map((u) => `${round((u.sentAt - run.loadStart) / 1000)} s`)
              .join(", "),
    },
    {
      rule: "no refresh chain broken other than by reuse detection",
      pass: broken === 0,
      detail: `${run.chains.length} chains: ${JSON.stringify(chains)}`,
    },
    {
      rule: "the killed worker's slot restarted; the primary lives",
      pass: run.primaryAlive && Number.isFinite(run.restartedAfterMs),
      detail: `new worker after ${round(run.restartedAfterMs, 0)} ms`,
    },
    {
      rule: `every worker's RSS at the end within ${RSS_GROWTH * 100} % of the middle (the lowest of each window)`,
      pass: run.memory.every((m) => m.end.samples > 0 && m.middle.samples > 0 && m.end.lowMiB <= m.middle.lowMiB * (1 + RSS_GROWTH)),
      detail: run.memory.map((m) => `slot ${m.slot}: ${round(m.middle.lowMiB)} → ${round(m.end.lowMiB)} MiB`).join("; "),
    },
    {
      rule: `flood: highest RSS ≤ idle + HASH_CONCURRENCY × argon2 memory + ${FLOOD_MARGIN_MIB} MiB`,
      pass: flood.peakMiB.every((peak, i) => peak <= boundMiB[i]!),
      detail: flood.peakMiB.map((peak, i) => `worker ${i}: ${round(peak)} ≤ ${boundMiB[i]} MiB`).join("; "),
    },
    {
      rule: "flood: every login answered 200, or 503 with Retry-After (shed), none held",
      pass: floodOther.length === 0 && floodOk.length > 0 && floodSlowestMs <= HTTP_LIMITS.connectionTimeoutMs,
      detail:
        `${floodOk.length} × 200, ${shedWithRetryAfter.length} × 503 shed, ${floodOther.length} other; ` +
        `slowest ${floodSlowestMs} ms (the server's bound on a silent socket: ${HTTP_LIMITS.connectionTimeoutMs} ms)`,
    },
    {
      rule: `flood: me p50 ≤ max(${ME_FLOOD_FACTOR} × idle p50, idle p50 + ${ME_FLOOD_SLACK_MS} ms), every me answered`,
      pass: meFlood.during.p50Ms <= meBound && meFloodFailures.length === 0 && meFlood.during.count > 0,
      detail: `idle p50 ${meFlood.before.p50Ms} ms, during ${meFlood.during.p50Ms} ms (bound ${round(meBound)}); ${meFloodFailures.length} failed`,
    },
    {
      rule: "the server logged no error but the killed worker's, and no password",
      pass: run.unexpectedLogErrors.length === 0 && !run.passwordInLog,
      detail: `${run.unexpectedLogErrors.length} error lines${run.passwordInLog ? "; a password in the log" : ""}`,
    },
  ];

  return {
    minutes: run.minutes,
    settings: run.settings,
    loadSeconds: round((run.loadEnd - run.loadStart) / 1000, 0),
    faults: {
      cutAtS: round((t.cutStart - run.loadStart) / 1000),
      cutSeconds: round((t.cutEnd - t.cutStart) / 1000),
      killAtS: round((t.killAt - run.loadStart) / 1000),
      restartedAfterMs: round(run.restartedAfterMs, 0),
      proxyResets: run.proxyResets,
    },
    requests: { total: run.sent.length, byOutcome: countBy(run.sent, outcomeOf), byVerdict: countBy(verdicts, (v) => v.verdict) },
    fiveXX: { total: fiveXX.length, tokenDuringCut: allowed5xx.length, other: fiveXX.length - allowed5xx.length },
    chains: { total: run.chains.length, byVerdict: chains, brokenOtherThanByReuse: broken },
    memory: run.memory.map((m) => ({ ...m, startMiB: round(m.startMiB), middle: roundWindow(m.middle), end: roundWindow(m.end) })),
    me: meWindows,
    slowestPasswordRequestMs: slowestHashingMs,
    flood: {
      logins: flood.logins.length,
      ok: floodOk.length,
      shedWithRetryAfter: shedWithRetryAfter.length,
      shedAtOnce: shedAtOnce.length,
      shedAfterQueueWait: shedWithRetryAfter.length - shedAtOnce.length,
      other: countBy(floodOther, (a) => outcomeOf({ route: "login", ...a })),
      shedAnswerMs: { p50: round(percentile(shedMs, 50)), max: round(Math.max(0, ...shedMs)) },
      slowestAnswerMs: floodSlowestMs,
      idleMiB: flood.idleMiB.map((v) => round(v)),
      peakMiB: flood.peakMiB.map((v) => round(v)),
      boundMiB,
      me: meFlood,
    },
    mailsReceived: run.mailsReceived,
    unexpectedLogErrors: run.unexpectedLogErrors.slice(0, 5),
    rules,
    pass: rules.every((r) => r.pass),
  };
}

export type Report = ReturnType<typeof buildReport>;

/** The report as the table the soak prints. */
export function formatReport(report: Report): string {
  const lines: string[] = [];
  const row = (...cells: Array<string | number>) => lines.push(`| ${cells.join(" | ")} |`);
  const s = report.settings;
  lines.push(
    `Soak: ${report.loadSeconds} s of mixed load on WEB_CONCURRENCY=2 over PostgreSQL; database cut ${report.faults.cutSeconds} s at ` +
      `${report.faults.cutAtS} s, a worker SIGKILLed at ${report.faults.killAtS} s (restarted after ${report.faults.restartedAfterMs} ms).`,
    `HASH_CONCURRENCY=${s.hashConcurrency}, ARGON2_MEMORY_KIB=${s.argon2MemoryKiB}, HASH_QUEUE_MAX=${s.hashQueueMax}, ` +
      `REFRESH_TOKEN_REUSE_INTERVAL=${s.reuseIntervalS}; ${report.mailsReceived} mails reached the SMTP sink.`,
    "",
    "| requests by outcome | count |",
    "|---|---:|",
  );
  for (const [outcome, count] of Object.entries(report.requests.byOutcome)) row(outcome, count);
  row("**total**", report.requests.total);
  lines.push("", "| figure | value |", "|---|---|");
  row("database cut: connections reset by the proxy", report.faults.proxyResets);
  row("5xx", `${report.fiveXX.total} (${report.fiveXX.tokenDuringCut} /token 503 during the cut, ${report.fiveXX.other} other)`);
  row(
    "refresh chains",
    `${report.chains.total}: ${Object.entries(report.chains.byVerdict)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ")}`,
  );
  row("chains broken other than by reuse detection", report.chains.brokenOtherThanByReuse);
  for (const [window, l] of Object.entries(report.me)) row(`me ${window} the faults: p50 / p99`, `${l.p50Ms} / ${l.p99Ms} ms (${l.count})`);
  row("slowest login or registration answer", `${report.slowestPasswordRequestMs} ms`);
  for (const m of report.memory) {
    row(
      `RSS slot ${m.slot} (pid ${m.pids.join(" → ")}): start / middle / end, lowest (highest) of ${WINDOW_MS / 1000} s`,
      `${m.startMiB} / ${m.middle.lowMiB} (${m.middle.highMiB}) / ${m.end.lowMiB} (${m.end.highMiB}) MiB`,
    );
  }
  const f = report.flood;
  row(
    `flood: ${f.logins} concurrent logins`,
    `${f.ok} × 200, ${f.shedWithRetryAfter} × 503 + Retry-After, ${Object.values(f.other).reduce((a, b) => a + b, 0)} other`,
  );
  row(
    `flood: 503s at once (queue full) / after the ${s.maxQueueWaitMs / 1000} s queue wait`,
    `${f.shedAtOnce} / ${f.shedAfterQueueWait}; at once in p50 ${f.shedAnswerMs.p50}, max ${f.shedAnswerMs.max} ms`,
  );
  row("flood: slowest answer", `${f.slowestAnswerMs} ms`);
  f.peakMiB.forEach((peak, i) =>
    row(
      `flood: worker ${i} highest RSS vs idle + ${s.hashConcurrency} × ${s.argon2MemoryKiB / 1024} MiB + ${FLOOD_MARGIN_MIB}`,
      `${peak} MiB vs ${f.boundMiB[i]} MiB (idle ${f.idleMiB[i]})`,
    ),
  );
  row("flood: me p50 / p99 idle → during", `${f.me.before.p50Ms} / ${f.me.before.p99Ms} → ${f.me.during.p50Ms} / ${f.me.during.p99Ms} ms`);
  lines.push("");
  for (const r of report.rules) lines.push(`${r.pass ? "PASS" : "FAIL"}  ${r.rule}: ${r.detail}`);
  lines.push(report.pass ? "soak: PASS" : "soak: FAIL");
  return lines.join("\n");
}
