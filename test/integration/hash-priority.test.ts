/** Hashing runs at a lower CPU priority than the event loop (Linux), so a login storm cannot starve other requests. */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = join(__dirname, "..", "..");

// In a process of its own: the priority reaches libuv's thread pool only when the hash thread is the
// first to use that pool, and this jest worker used it long ago.
const SCRIPT = `
require("reflect-metadata");
const { readdirSync, readFileSync } = require("node:fs");
const { createApp } = require("./dist/app");
const { loadConfig } = require("./dist/config");
const niceOf = (task) => { const stat = readFileSync("/proc/self/task/" + task + "/stat", "utf8"); return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]); };
(async () => {
  const app = await createApp(loadConfig({ NODE_ENV: "production", PORT: "0", DATABASE_URL: "sqlite:" + process.argv[1], SECRET_KEY: "x".repeat(40), LOG_LEVEL: "info", ARGON2_MEMORY_KIB: "1024", ARGON2_TIME_COST: "1", ARGON2_PARALLELISM: "1" }));
  await app.listen();
  await app.passwords.hash("a password to hash");
  const nices = readdirSync("/proc/self/task").map((task) => ({ task: Number(task), nice: niceOf(task) }));
  await app.close();
  process.stderr.write(JSON.stringify({ pid: process.pid, nices }));
})();
`;

const onLinux = process.platform === "linux" ? it : it.skip;

describe("hash thread priority", () => {
  onLinux("keeps the event loop at normal priority and runs the hash worker and libuv's pool at nice 10", async () => {
    const dir = mkdtempSync(join(tmpdir(), "graphql-auth-priority-"));
    try {
      const { stderr } = await run(process.execPath, ["-e", SCRIPT, join(dir, "test.db")], {
        cwd: ROOT,
        env: { ...process.env, NODE_ENV: "production" },
      });
      const { pid, nices } = JSON.parse(stderr) as { pid: number; nices: { task: number; nice: number }[] };
      expect(nices.find((t) => t.task === pid)?.nice).toBe(0);
      // The hash worker, and the pool threads it started (four by default).
      expect(nices.filter((t) => t.nice === 10).length).toBeGreaterThanOrEqual(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
