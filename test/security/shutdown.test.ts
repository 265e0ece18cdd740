/** CONTRACT section 7: SIGTERM stops accepting, finishes requests in flight, closes the database, exits 0. */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TEST_SECRET } from "../harness";

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
      const late = await fetch(`${url}/healthz`, { headers: { connection: "close" } }).then((r) => r.status, (error: unknown) => String(error));
      expect([503, "TypeError: fetch failed"]).toContain(late);

      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(((await response.json()) as any).errors[0]).toMatchObject({ message: "Incorrect username or password", extensions: { code: "UNAUTHENTICATED" } });

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
