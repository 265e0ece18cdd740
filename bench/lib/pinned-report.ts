/** The pinned table as a report section, and the targets of issue 19 judged on it. */
import type { Section, Target } from "./report";
import type { PinnedOptions, PinnedResult } from "./pinned";

/** Issue 19: `me` and `myItems` ≥ 0.9 × plain, p99 ≤ 2 × plain's, `me` ≥ 2.5 × FastAPI, all pinned. */
export const PINNED_TARGET = { throughput: 0.9, p99: 2, fastapi: 2.5 } as const;

export function pinnedSection(result: PinnedResult, o: PinnedOptions): Section {
  const tool = result.tool === "wrk" ? "wrk -t1" : "autocannon's command line";
  return {
    title: `Pinned: each server alone on core 1, the load (${tool}, ${o.connections} connections) on core 0`,
    note:
      "The main table. Servers started as an outsider starts them, each under `taskset -a -c 1` (every thread): graphql-auth-server is " +
      "`node dist/main.js` with the flags of `npm start` (none), NODE_ENV=production, a SQLite file, its user added by `graphql-auth users add`, " +
      "its token from `POST /token`; plain Apollo is Apollo Server 5 on Fastify 5 with their defaults answering constants. " +
      "The load generator is a separate process under `taskset -c 0`; PostgreSQL (its row) runs unpinned. " +
      `RSS: the server's highest resident set size during the pinned run, MiB.${result.notes.map((n) => ` Note: ${n}.`).join("")}`,
    rows: result.rows.map((r) => ({
      label: r.label,
      requestsPerSecond: r.measured.requestsPerSecond,
      p50Ms: r.measured.p50Ms,
      p99Ms: r.measured.p99Ms,
      cpuUsPerRequest: r.measured.cpuUsPerRequest,
      rssMiB: r.peakRssMiB,
      comparison: r.comparison,
    })),
  };
}

export function pinnedTargets(result: PinnedResult): Target[] {
  if (!result.available) return [];
  const r = result.ratios;
  const x = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? `${v.toFixed(2)} ×` : "n/a");
  const judge = (target: string, v: number | undefined, ok: (v: number) => boolean): Target => ({
    target,
    measured: x(v),
    met: v !== undefined && Number.isFinite(v) ? ok(v) : undefined,
  });
  const targets: Target[] = [];
  for (const level of ["warn", "info"] as const) {
    const { throughput, p99 } = PINNED_TARGET;
    targets.push(
      judge(`pinned: \`me\` ≥ ${throughput} × plain (LOG_LEVEL=${level})`, r[`auth me ${level} / plain me`], (v) => v >= throughput),
      judge(`pinned: \`me\` p99 ≤ ${p99} × plain's (LOG_LEVEL=${level})`, r[`auth me ${level} p99 / plain me p99`], (v) => v <= p99),
      judge(
        `pinned: \`myItems\` ≥ ${throughput} × plain (LOG_LEVEL=${level})`,
        r[`auth myItems ${level} / plain myItems`],
        (v) => v >= throughput,
      ),
      judge(
        `pinned: \`myItems\` p99 ≤ ${p99} × plain's (LOG_LEVEL=${level})`,
        r[`auth myItems ${level} p99 / plain myItems p99`],
        (v) => v <= p99,
      ),
    );
  }
  if (r["auth me warn / fastapi me"] !== undefined) {
    targets.push(
      judge(
        `pinned: \`me\` ≥ ${PINNED_TARGET.fastapi} × FastAPI (LOG_LEVEL=warn)`,
        r["auth me warn / fastapi me"],
        (v) => v >= PINNED_TARGET.fastapi,
      ),
      judge(
        `pinned: \`me\` ≥ ${PINNED_TARGET.fastapi} × FastAPI (LOG_LEVEL=info)`,
        r["auth me info / fastapi me"],
        (v) => v >= PINNED_TARGET.fastapi,
      ),
    );
  }
  return targets;
}
