/** The soaked server: `node dist/main.js` under WEB_CONCURRENCY, its worker processes, their memory, its stop. */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { closeSync, openSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { childrenOf, freePort, memoryOf, ROOT, SERVER_NODE_FLAGS, settle } from "../lib/processes";

export interface SoakServer {
  readonly port: number;
  readonly primaryPid: number;
  /** The log file (stdout and stderr of the primary and its workers). */
  readonly logFile: string;
  /** The primary's worker processes now, oldest first. */
  workers(): number[];
  /** Whether the primary is still running. */
  alive(): boolean;
  stop(): Promise<void>;
}

/** One GET on a connection of its own, so that the primary hands it to the next worker; the status, or 0. */
export function probe(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false, headers: { connection: "close" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
    req.setTimeout(5_000, () => req.destroy());
    req.end();
  });
}

/**
 * Starts the server as `npm start` does (its node flags), with `env` and nothing else from this
 * process's environment, and waits until the primary has `workers` children, /readyz answers 200
 * on a row of fresh connections and the workers idle.
 */
export async function startServer(env: Record<string, string>, workers: number, logFile: string, cwd: string): Promise<SoakServer> {
  const port = await freePort();
  const fd = openSync(logFile, "a", 0o600);
  const child: ChildProcess = spawn(process.execPath, [...SERVER_NODE_FLAGS, join(ROOT, "dist", "main.js")], {
    cwd,
    env: { PATH: process.env.PATH ?? "", ...env, HOST: "127.0.0.1", PORT: String(port), WEB_CONCURRENCY: String(workers) },
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  const pid = child.pid!;
  const server: SoakServer = {
    port,
    primaryPid: pid,
    logFile,
    workers: () => childrenOf(pid).sort((a, b) => a - b),
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      const alive = server.alive();
      const workerPids = server.workers();
      if (alive) {
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
        await exited;
        clearTimeout(timer);
      }
      // A primary killed outright leaves its workers behind: they are ours to end.
      for (const worker of workerPids) {
        try {
          process.kill(worker, "SIGKILL");
        } catch {
          // already gone
        }
      }
    },
  };
  const deadline = Date.now() + 90_000;
  let ready = 0;
  while (ready < 2 * workers) {
    if (!server.alive()) throw new Error(`the server exited before it was ready; see ${logFile}:\n${tail(logFile)}`);
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`the server was not ready within 90 s; see ${logFile}:\n${tail(logFile)}`);
    }
    ready = server.workers().length === workers && (await probe(port, "/readyz")) === 200 ? ready + 1 : 0;
    await sleep(100);
  }
  // The primary hands connections only to the workers already listening, so a row of 200s could
  // all come from one: wait too until every worker has finished its start-up work (the dummy
  // hash, the calibration) and idles.
  await settle(server.workers(), 0.1, 30_000);
  return server;
}

/** The last lines of a log file, for an error message. */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** VmRSS of a process in MiB, or NaN when it is gone. */
export function rssMiB(pid: number): number {
  return memoryOf(pid)?.rssMiB ?? NaN;
}
