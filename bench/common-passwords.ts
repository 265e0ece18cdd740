/**
 * Benchmark: what the password blocklist costs, its memory (each layout measured in a fresh
 * process) and the time of one check. Run: `tsc -b tsconfig.bench.json && node dist-bench/bench/common-passwords.js`.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { loadCommonPasswordList, normaliseCommonPassword } from "../src/passwords/common-passwords";

/** The committed list, from dist-bench/bench (the compiled module's own path would be under dist-bench/src). */
const LIST = resolve(__dirname, "..", "..", "src", "passwords", "common-passwords.txt");

interface Memory {
  readonly heapUsed: number;
  readonly external: number;
  readonly rss: number;
}

function settledMemory(): Memory {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --expose-gc");
  gc();
  gc();
  const { heapUsed, external, rss } = process.memoryUsage();
  return { heapUsed, external, rss };
}

/** In a child: load one layout, print the memory it added and the load time as JSON. */
function measureLayout(layout: "sorted-buffer" | "set"): void {
  const before = settledMemory();
  const started = process.hrtime.bigint();
  let keep: { has(password: string): boolean };
  if (layout === "sorted-buffer") keep = loadCommonPasswordList(LIST);
  else keep = new Set(readFileSync(LIST, "utf8").split("\n").filter(Boolean));
  const loadMs = Number(process.hrtime.bigint() - started) / 1e6;
  const after = settledMemory();
  if (!keep.has("password1")) throw new Error("the list lacks password1");
  const mb = (bytes: number) => Math.round((bytes / 1e6) * 100) / 100;
  console.log(
    JSON.stringify({
      layout,
      loadMs: Math.round(loadMs * 10) / 10,
      heapUsedMB: mb(after.heapUsed - before.heapUsed),
      externalMB: mb(after.external - before.external),
      rssMB: mb(after.rss - before.rss),
    }),
  );
}

/** Mean microseconds a check over `candidates`, after a warm-up round. */
function timeChecks(has: (password: string) => boolean, candidates: readonly string[]): number {
  for (const candidate of candidates) has(candidate);
  const rounds = 5;
  const started = process.hrtime.bigint();
  let hits = 0;
  for (let round = 0; round < rounds; round++) for (const candidate of candidates) if (has(candidate)) hits++;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e3;
  if (hits < 0) throw new Error("unreachable");
  return Math.round((elapsed / (rounds * candidates.length)) * 100) / 100;
}

function main(): void {
  const layout = process.argv[2];
  if (layout === "sorted-buffer" || layout === "set") return measureLayout(layout);

  const run = (name: string) =>
    JSON.parse(execFileSync(process.execPath, ["--expose-gc", __filename, name], { encoding: "utf8" })) as object;
  console.log("memory added by loading the list (fresh process each):");
  console.log(run("sorted-buffer"));
  console.log(run("set"));

  const list = loadCommonPasswordList(LIST);
  const entries = readFileSync(LIST, "utf8").split("\n").filter(Boolean);
  const pick = (i: number) => entries[(i * 7919) % entries.length]!;
  const hits = Array.from({ length: 10_000 }, (_, i) => pick(i).toUpperCase());
  const misses = Array.from({ length: 10_000 }, () => randomBytes(12).toString("base64url"));
  const longest = Array.from({ length: 1_000 }, () => "Ab1€".repeat(256));
  if (!hits.every((p) => list.has(p)) || misses.some((p) => list.has(p))) throw new Error("the list answers wrongly");
  if (normaliseCommonPassword("PASSWORD1") !== "password1") throw new Error("normalisation broke");
  console.log(`entries: ${list.size}`);
  console.log(`check, listed (upper-cased) password: ${timeChecks((p) => list.has(p), hits)} µs`);
  console.log(`check, random 16-character password: ${timeChecks((p) => list.has(p), misses)} µs`);
  console.log(`check, 1024-character password:       ${timeChecks((p) => list.has(p), longest)} µs`);
}

main();
