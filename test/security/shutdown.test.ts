/**
 * CONTRACT sections 7 and 15 (ATTACKS H9): SIGTERM answers waiting logins 503, finishes requests in
 * flight, closes the database, exits 0.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { request as httpRequest } from "node:http";
import { TEST_SECRET } from "../harness";
import { spawnServer } from "../spawned-server";

const MAIN = resolve(__dirname, "../../dist/main.js");

describe("SIGTERM", () => {
  const dir = mkdtempSync(join(tmpdir(), "graphql-auth-sigterm-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("finishes a slow login in flight, refuses new connections, closes the database and exits 0 within 10 s", async () => {
    const database = join(dir, "shutdown.db");
    const child = spawn(process.execPath, [MAIN], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: "production",
        HOST: "127.0.0.1",
        PORT: "0",
        DATABASE_URL: `sqlite:${database}`,
        SECRET_KEY: TEST_SECRET,
        LOG_LEVEL: "info",
        // A costly policy, so that the login below is still verifying when the signal arrives.
        ARGON2_MEMORY_KIB: "131072",
        ARGON2_TIME_COST: "10",
        ARGON2_PARALLELISM: "1",
        HASH_CONCURRENCY: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const waiters: Array<() => void> = [];
    child.stdout.on("data", (chunk) => {
      stdout += String(chunk);
      for (const wake of waiters.splice(0)) wake();
    });
    child.stderr.on("data", (chunk) => void (stderr += String(chunk)));
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    const waitFor = async (pattern: RegExp) => {
      while (!pattern.test(stdout)) {
        if (child.exitCode !== null) throw new Error(`server exited: ${stderr}`);
        await new Promise<void>((wake) => waiters.push(wake));
      }
      return pattern.exec(stdout)!;
    };
    try {
      const [, url] = await waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)\/graphql"/);
      const inFlight = fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: 'mutation { login(username: "nobody", password: "whatever") { accessToken } }' }),
      });
      // Let the request reach the server; its verification takes over a second.
      await sleep(300);
      child.kill("SIGTERM");
      await waitFor(/shutting down: finishing requests in flight/);
      // Not accepting any more: a new connection is refused (or answered 503 while closing).
      const late = await fetch(`${url}/healthz`, { headers: { connection: "close" } }).then(
        (r) => r.status,
        (error: unknown) => String(error),
      );
      expect([503, "TypeError: fetch failed"]).toContain(late);

      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(((await response.json()) as any).errors[0]).toMatchObject({
        message: "Incorrect username or password",
        extensions: { code: "UNAUTHENTICATED" },
      });

      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<string>((done) => (timer = setTimeout(() => done("still running after 10 s"), 10_000)));
      const code = await Promise.race([exited, deadline]);
      clearTimeout(timer);
      expect(code).toBe(0);
      expect(stdout).toMatch(/shut down: requests finished, database closed/);
      // Closing the last connection checkpoints SQLite's write-ahead log and removes it.
      expect(existsSync(`${database}-wal`)).toBe(false);
      expect(stderr).toBe("");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 60_000);
});

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: any;
}

/** A login on a connection of its own; resolves with the answer, or the socket error's text. */
function rawLogin(port: number, username: string): Promise<RawAnswer | string> {
  return new Promise((resolve) => {
    const request = httpRequest(
      { host: "127.0.0.1", port, path: "/graphql", method: "POST", agent: false, headers: { "content-type": "application/json" } },
      (response) => {
        let text = "";
        response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: JSON.parse(text) }));
        response.on("error", (error) => resolve(String(error)));
      },
    );
    request.on("error", (error) => resolve(String(error)));
    request.end(JSON.stringify({ query: `mutation { login(username: "${username}", password: "wrong-password") { accessToken } }` }));
  });
}

describe("SIGTERM with logins waiting", () => {
  it("H9: the waiting logins are answered 503 with Connection: close at once, the running one finishes, exit 0, no error lines", async () => {
    const server = spawnServer({
      NODE_ENV: "production",
      DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), "graphql-auth-h9-")), "h9.db")}`,
      // One verification at a time, each long enough that 40 of them outlast the 10 s budget; room
      // in the queue for all of them, so every refusal below is the shutdown's.
      ARGON2_MEMORY_KIB: "65536",
      ARGON2_TIME_COST: "4",
      HASH_CONCURRENCY: "1",
      HASH_QUEUE_MAX: "64",
    });
    try {
      const listening = await server.waitForLine((line) => typeof line.url === "string", "the listening line");
      const port = Number(new URL(String(listening.url)).port);
      const logins = Array.from({ length: 40 }, (_, i) => rawLogin(port, `waiting_${i}`));
      // Let every request reach the queue before the signal.
      await sleep(1_000);
      server.child.kill("SIGTERM");
      const answers = await Promise.all(logins);
      const code = await server.exited;

      for (const answer of answers)
        expect(typeof answer === "string" ? answer : [200, 503]).toContain(typeof answer === "string" ? "an HTTP answer" : answer.status);
      const refused = answers.filter((a): a is RawAnswer => typeof a !== "string" && a.status === 503);
      expect(refused.length).toBeGreaterThanOrEqual(20);
      for (const answer of refused) {
        expect(answer.headers.connection).toBe("close");
        expect(Number(answer.headers["retry-after"])).toBeGreaterThanOrEqual(1);
        expect(answer.body.errors[0]).toMatchObject({ extensions: { code: "SERVICE_UNAVAILABLE" } });
        expect(JSON.stringify(answer.body)).not.toMatch(/stack|\.js:\d+/);
      }
      expect(code).toBe(0);
      // An orderly stop: nothing at error level (pino 50) or above, no stack trace anywhere.
      expect(server.lines.filter((line) => Number(line.level) >= 50)).toEqual([]);
      expect(JSON.stringify(server.lines)).not.toMatch(/"stack"|\n\s+at /);
      expect(server.lines.some((line) => line.msg === "shut down: requests finished, database closed")).toBe(true);
    } finally {
      if (server.child.exitCode === null) server.child.kill("SIGKILL");
    }
  }, 60_000);
});
