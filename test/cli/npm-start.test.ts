/**
 * `npm start` (CONTRACT section 1): on an unchanged tree it compiles nothing and reaches the server at
 * once; a changed source is rebuilt.
 */
import { spawn } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TEST_SECRET } from "../harness";

const ROOT = resolve(__dirname, "..", "..");
const RECORDER = join(ROOT, "test", "fixtures", "record-process-start.js");

interface ProcessStart {
  readonly script: string;
  readonly startedAt: number;
}

interface StartRun {
  /** Every Node process the run started, in order: npm first, the server last. */
  readonly processes: readonly ProcessStart[];
  /** From the start script's first process to the server's own start, in milliseconds. */
  readonly buildStepMs: number;
}

/**
 * A copy of the project's sources, configuration and build output, timestamps kept (so the copy is
 * exactly as current as the checkout), with node_modules linked rather than copied.
 */
function copyProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "graphql-auth-start-"));
  for (const entry of ["package.json", "tsconfig.json", "tsconfig.build.json", "src", "dist"]) {
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true, preserveTimestamps: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

/** Runs `npm start` in `dir` until the server says it listens and answers /healthz, then stops it with SIGTERM. */
async function npmStart(dir: string): Promise<StartRun> {
  const record = join(dir, `processes-${Date.now()}.jsonl`);
  const child = spawn("npm", ["start"], {
    cwd: dir,
    // Its own process group: SIGTERM reaches npm, the shell and the server together.
    detached: true,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? dir,
      NODE_OPTIONS: `--require ${RECORDER}`,
      RECORD_PROCESS_START: record,
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: "0",
      DATABASE_URL: "sqlite::memory:",
      SECRET_KEY: TEST_SECRET,
      HASH_CONCURRENCY: "1",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  try {
    const url = await new Promise<string>((found, fail) => {
      const timer = setTimeout(() => fail(new Error(`npm start did not listen within 150 s:\n${output.slice(-3000)}`)), 150_000);
      const look = () => {
        const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)\/graphql"/.exec(output);
        if (match) {
          clearTimeout(timer);
          found(match[1]!);
        }
      };
      child.stdout!.on("data", look);
      void exited.then((code) => {
        clearTimeout(timer);
        fail(new Error(`npm start exited (${code}) before listening:\n${output.slice(-3000)}`));
      });
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, "SIGTERM");
    await exited;
  }
  const processes = readFileSync(record, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as ProcessStart);
  const server = processes.find((p) => /dist[\\/]main\.js$/.test(p.script));
  if (!server) throw new Error(`the server never started: ${JSON.stringify(processes)}`);
  // processes[0] is npm itself; whatever the start script runs before the server is its build step.
  const firstOfScript = processes[1] ?? server;
  return { processes, buildStepMs: server.startedAt - firstOfScript.startedAt };
}

/** Every file under dist with its modification time and size. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(join(dir, "dist"), { recursive: true, encoding: "utf8" })) {
    const stat = statSync(join(dir, "dist", name));
    if (stat.isFile()) files.set(name, `${stat.mtimeMs}:${stat.size}`);
  }
  return files;
}

describe("npm start", () => {
  let dir: string;

  beforeAll(async () => {
    dir = copyProject();
    // Brings the copy's build up to date by the project's own means, whatever the checkout's state.
    await npmStart(dir);
  }, 200_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("on an unchanged tree compiles nothing and starts the server within 2 s of the script starting", async () => {
    const before = snapshot(dir);
    const run = await npmStart(dir);
    expect(snapshot(dir)).toEqual(before);
    // The bound, generous: the no-op check takes a fraction of a second even on a loaded machine.
    expect(run.buildStepMs).toBeLessThan(2000);
  }, 200_000);

  test("rebuilds a changed source file before starting", async () => {
    const marker = `// changed by npm-start.test.ts ${Date.now()}`;
    appendFileSync(join(dir, "src", "clock.ts"), `${marker}\n`);
    await npmStart(dir);
    expect(readFileSync(join(dir, "dist", "clock.js"), "utf8")).toContain(marker);
  }, 200_000);
});
