/**
 * Load from a separate process pinned to one core, as an outsider measures: wrk (-t1, a Lua script
 * for the method, body and headers), or autocannon's command line when wrk is not installed.
 */
import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { LoadResult } from "./load";
import { cpuSecondsOf, ROOT } from "./processes";

const run = promisify(execFile);

/** One request, repeated: what wrk's script or autocannon's flags describe. */
export interface OutsideRequest {
  readonly url: string;
  readonly method: "GET" | "POST";
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export interface OutsideLoadSpec {
  readonly request: OutsideRequest;
  readonly connections: number;
  /** Whole seconds (wrk's -d). */
  readonly seconds: number;
  /** The core the load generator runs on (taskset -c). */
  readonly core: number;
  /** The server's process, whose CPU time (every thread) is measured over the load. */
  readonly serverPid: number;
  /** A folder for wrk's Lua script. */
  readonly scratchDir: string;
}

export type LoadTool = "wrk" | "autocannon";

/** Which load generator this machine has: wrk if on PATH, else autocannon's command line. */
export async function pickLoadTool(): Promise<{ tool: LoadTool; note?: string }> {
  try {
    await run("wrk", ["--version"]).catch((error: { code?: unknown; stdout?: string }) => {
      // wrk --version prints its version and exits 1.
      if (typeof error.stdout !== "string" || !error.stdout.startsWith("wrk")) throw error;
    });
    return { tool: "wrk" };
  } catch {
    return { tool: "autocannon", note: "wrk not found (`apt-get install wrk`): the pinned load is autocannon's command line instead" };
  }
}

/** Runs one pinned load and returns its figures (latency percentiles as the tool reports them). */
export async function runOutsideLoad(tool: LoadTool, spec: OutsideLoadSpec): Promise<LoadResult> {
  const cpuBefore = cpuSecondsOf(spec.serverPid);
  const result = tool === "wrk" ? await wrk(spec) : await autocannonCli(spec);
  const cpuUsPerRequest = ((cpuSecondsOf(spec.serverPid) - cpuBefore) / result.responses) * 1e6;
  return { ...result, cpuUsPerRequest };
}

type Counted = Omit<LoadResult, "cpuUsPerRequest">;

async function wrk(spec: OutsideLoadSpec): Promise<Counted> {
  const script = join(spec.scratchDir, `wrk-${process.pid}.lua`);
  writeFileSync(script, luaScript(spec.request));
  const args = ["-c", String(spec.core), "wrk", "-t1", `-c${spec.connections}`, `-d${spec.seconds}s`, "--timeout", "10s", "--latency"];
  const { stdout } = await run("taskset", [...args, "-s", script, spec.request.url], { maxBuffer: 1 << 20 });
  return parseWrk(stdout);
}

/** wrk's script: the method, body and headers of every request (Lua long strings need no escaping). */
function luaScript(request: OutsideRequest): string {
  const long = (text: string) => `[==[${text}]==]`;
  const lines = [`wrk.method = "${request.method}"`];
  if (request.body !== undefined) lines.push(`wrk.body = ${long(request.body)}`);
  for (const [name, value] of Object.entries(request.headers)) lines.push(`wrk.headers[ ${long(name)} ] = ${long(value)}`);
  return `${lines.join("\n")}\n`;
}

/** Reads wrk's --latency report: requests, duration, p50 and p99, non-2xx and socket errors. */
export function parseWrk(out: string): Counted {
  const done = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  if (!done) throw new Error(`wrk: no summary in its output: ${out.slice(0, 300)}`);
  const responses = Number(done[1]);
  const seconds = toMs(done[2]!, done[3]!) / 1000;
  const percentile = (p: string) => {
    const match = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(out);
    if (!match) throw new Error(`wrk: no ${p}% line in its output`);
    return toMs(match[1]!, match[2]!);
  };
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requestsPerSecond: (responses - non2xx) / seconds,
    p50Ms: percentile("50"),
    p99Ms: percentile("99"),
    responses: responses - non2xx,
    failures: non2xx + socketErrors,
  };
}

function toMs(value: string, unit: string): number {
  const factor = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit];
  if (factor === undefined) throw new Error(`wrk: unknown unit ${unit}`);
  return Number(value) * factor;
}

async function autocannonCli(spec: OutsideLoadSpec): Promise<Counted> {
  const cli = join(ROOT, "node_modules", "autocannon", "autocannon.js");
  if (!existsSync(cli)) throw new Error("neither wrk (`apt-get install wrk`) nor autocannon (`npm install`) is available");
  const { request } = spec;
  const headers = Object.entries(request.headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
  const body = request.body === undefined ? [] : ["-b", request.body];
  const args = ["-c", String(spec.core), process.execPath, cli, "-j", "-c", String(spec.connections), "-d", String(spec.seconds)];
  const { stdout } = await run("taskset", [...args, "-m", request.method, ...headers, ...body, request.url], { maxBuffer: 16 << 20 });
  const r = JSON.parse(stdout) as {
    duration: number;
    requests: { total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  };
  const responses = r.requests.total - r.non2xx;
  return {
    requestsPerSecond: responses / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    responses,
    failures: r.non2xx + r.errors + r.timeouts,
  };
}
