/** Runs the built server (`node dist/main.js`) as a child process and reads its JSON log lines. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { request, type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TEST_SECRET } from "./harness";

export type LogLine = Record<string, unknown> & { msg?: string; pid?: number };

export interface SpawnedServer {
  readonly child: ChildProcess;
  /** Every JSON line written to stdout so far. */
  readonly lines: LogLine[];
  /** Resolves with the first line (already seen or still to come) that matches. */
  waitForLine(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
  /** Everything written to stderr so far (V8's "Reached heap limit", say). */
  stderr(): string;
}

const MAIN = resolve(__dirname, "..", "dist", "main.js");

/**
 * Starts `node dist/main.js` (or `script`, a stand-in that logs the same way) in an empty folder
 * (so no developer's .env is read) with cheap test settings under `env`. Kill it in afterAll if the
 * test did not stop it.
 */
export function spawnServer(env: Record<string, string>, script = MAIN): SpawnedServer {
  const cwd = mkdtempSync(join(tmpdir(), "graphql-auth-spawn-"));
  const child = spawn(process.execPath, [script], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: "0",
      SECRET_KEY: TEST_SECRET,
      ARGON2_MEMORY_KIB: "1024",
      ARGON2_TIME_COST: "1",
      ARGON2_PARALLELISM: "1",
      HASH_CONCURRENCY: "1",
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  const waiters: Array<() => void> = [];
  let buffered = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    const complete = buffered.split("\n");
    buffered = complete.pop()!;
    for (const text of complete) {
      try {
        lines.push(JSON.parse(text) as LogLine);
      } catch {
        lines.push({ msg: text });
      }
    }
    for (const wake of waiters.splice(0)) wake();
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | string>((done) => child.on("exit", (code, signal) => done(code ?? signal ?? -1)));

  const waitForLine: SpawnedServer["waitForLine"] = (match, what, timeoutMs = 20_000) =>
    new Promise<LogLine>((found, fail) => {
      const timer = setTimeout(() => fail(new Error(`timed out waiting for ${what}; stderr: ${stderr.slice(0, 2000)}`)), timeoutMs);
      const look = () => {
        const line = lines.find(match);
        if (line) {
          clearTimeout(timer);
          found(line);
        } else if (child.exitCode !== null) {
          clearTimeout(timer);
          fail(new Error(`server exited (${child.exitCode}) before ${what}; stderr: ${stderr.slice(0, 2000)}`));
        } else waiters.push(look);
      };
      look();
    });
  return { child, lines, waitForLine, exited, stderr: () => stderr };
}

export interface PlainResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: any;
}

/**
 * One HTTP request on a connection of its own (no keep-alive), so that a cluster's primary
 * hands each request to the next worker.
 */
export function requestOnNewConnection(
  port: number,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<PlainResponse> {
  return new Promise((done, fail) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: payload === undefined ? "GET" : "POST",
        agent: false,
        headers: { connection: "close", ...(payload === undefined ? {} : { "content-type": "application/json" }), ...headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
        res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on("error", fail);
    req.end(payload);
  });
}
