/** Bench child processes: start a server in its own process, wait until it answers, read its memory. */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** The repository root: the nearest folder above with a package.json (dist-bench/bench/lib, or bench/lib under ts-jest). */
export const ROOT = repositoryRoot(__dirname);

function repositoryRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** A server process the bench started; `stop()` ends it and waits for its exit. */
export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * The node flags `npm start` puts before `dist/main.js` (none today: V8's defaults, see
 * bench/README.md), read from package.json so that the bench starts the server as `npm start` does.
 */
export const SERVER_NODE_FLAGS: readonly string[] = startFlags();

function startFlags(): string[] {
  const manifest = readFileSync(join(ROOT, "package.json"), "utf8");
  const { scripts } = JSON.parse(manifest) as { scripts: Record<string, string> };
  const flags = /\bnode((?: --\S+)*) dist\/main\.js/.exec(scripts.start ?? "")?.[1];
  if (flags === undefined) throw new Error("package.json: the start script does not run `node [flags] dist/main.js`");
  return flags.split(" ").filter(Boolean);
}

/**
 * Forks a compiled bench child (`dist-bench/bench/servers/<file>.js`) and waits for its `{ url }`
 * message. `nodeFlags`: for graphql-auth-server, the flags `npm start` passes.
 */
export async function forkServer(
  name: string,
  file: string,
  args: readonly string[],
  logFd: number | "ignore" = "ignore",
  nodeFlags: readonly string[] = [],
): Promise<ServerProcess> {
  const child = fork(join(__dirname, "..", "servers", file), [...args], {
    stdio: ["ignore", logFd, "inherit", "ipc"],
    // Apollo and Fastify read NODE_ENV for their defaults: both servers run as in production.
    env: { ...process.env, NODE_ENV: "production" },
    execArgv: [...nodeFlags, ...childExecArgv(name)],
  });
  const message = await firstMessage(child, name);
  if (typeof message.url !== "string") throw new Error(`${name}: no url in ${JSON.stringify(message)}`);
  return { name, url: message.url, pid: child.pid!, stop: () => stopChild(child) };
}

/** Starts `node dist/main.js` with `env` (the real start-up, cluster included) and waits for /healthz. */
export async function spawnMain(name: string, env: Record<string, string>, cwd: string, logFd: number | "ignore"): Promise<ServerProcess> {
  const port = await freePort();
  // As `npm start` runs it.
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...childExecArgv(name), join(ROOT, "dist", "main.js")], {
    cwd,
    env: { PATH: process.env.PATH ?? "", ...env, HOST: "127.0.0.1", PORT: String(port) },
    stdio: ["ignore", logFd, "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`${name} exited with code ${String(code)} before answering`);
  });
  await Promise.race([waitForHealth(url), exited]);
  exited.catch(() => undefined);
  return { name, url, pid: child.pid!, stop: () => stopChild(child) };
}

/** Runs a compiled bench child to completion and returns the one message it sends. */
export async function runChild<T>(file: string, args: readonly string[]): Promise<T> {
  const child = fork(join(__dirname, "..", "servers", file), [...args], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const message = (await firstMessage(child, file)) as T;
  await once(child, "exit");
  return message;
}

/** BENCH_CPU_PROF=<name> profiles that child with --cpu-prof into ./profiles (for finding hot spots). */
function childExecArgv(name: string): string[] {
  const wanted = process.env.BENCH_CPU_PROF;
  return wanted && name.startsWith(wanted) ? ["--cpu-prof", `--cpu-prof-dir=${join(ROOT, "profiles")}`] : [];
}

async function firstMessage(child: ChildProcess, name: string): Promise<Record<string, unknown>> {
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`${name} exited with code ${String(code)} before it was ready`);
  });
  const [message] = (await Promise.race([once(child, "message"), exited])) as [Record<string, unknown>];
  exited.catch(() => undefined);
  if (typeof message.error === "string") throw new Error(`${name}: ${message.error}`);
  return message;
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the child has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

async function waitForHealth(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready within 60 s`);
    await sleep(100);
  }
}

/** A TCP port that was free a moment ago (the cluster primary needs a fixed one to share). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (typeof address !== "object" || !address) throw new Error("no port");
  return address.port;
}

/** Resident memory of one process in MiB: now (VmRSS) and its peak so far (VmHWM). Linux only. */
export function memoryOf(pid: number): { rssMiB: number; peakMiB: number } | undefined {
  const file = `/proc/${pid}/status`;
  if (!existsSync(file)) return undefined;
  const status = readFileSync(file, "utf8");
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssMiB: kib("VmRSS") / 1024, peakMiB: kib("VmHWM") / 1024 };
}

/** The process ids of `pid`'s direct children (cluster workers). Linux only; empty elsewhere. */
export function childrenOf(pid: number): number[] {
  if (!existsSync("/proc")) return [];
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent; the command name (field 2) may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return children;
}

/** CPU seconds (user + system, every thread) that process `pid` has used so far. Linux only; NaN elsewhere. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields 14 and 15 (utime, stime), counted after the parenthesised command name.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** USER_HZ: 100 on every Linux that Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Samples the resident memory of `pids` every `everyMs` until stop(), which returns each one's
 * highest sample in MiB: the RSS under load, without the start-up peaks VmHWM would include.
 */
export function sampleMemory(pids: readonly number[], everyMs = 100): { stop(): number[] } {
  const peaks = pids.map(() => 0);
  const sample = () => pids.forEach((pid, i) => (peaks[i] = Math.max(peaks[i]!, memoryOf(pid)?.rssMiB ?? NaN)));
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

/**
 * Waits until `pids` use less than `share` of a CPU over a quarter second (at most `maxMs`): a
 * load generator stops at its deadline, but the logins it queued go on hashing for a while, and
 * the next round must not measure them.
 */
export async function settle(pids: readonly number[], share = 0.15, maxMs = 20_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  const used = () => pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  while (Date.now() < deadline) {
    const before = used();
    await sleep(250);
    if (used() - before < share * 0.25) return;
  }
}
