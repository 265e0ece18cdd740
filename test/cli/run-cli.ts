/** Test helper: runs the built CLI (`node dist/cli/main.js`) as a child process, as an operator would. */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TEST_SECRET } from "../harness";

/** The compiled entry point that package.json `bin` names; `npm test` builds it first. */
export const CLI_PATH = resolve(__dirname, "..", "..", "dist", "cli", "main.js");

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of every CLI run: test mode, a real key, cheap argon2. Nothing is inherited from
 * the jest process but PATH, so a developer's LOG_LEVEL or DATABASE_URL cannot leak in.
 */
export function cliEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    NODE_ENV: "test",
    DATABASE_URL: databaseUrl,
    SECRET_KEY: TEST_SECRET,
    ARGON2_MEMORY_KIB: "1024",
    ARGON2_TIME_COST: "1",
    ARGON2_PARALLELISM: "1",
    ...extra,
  };
}

/** An empty working directory, so that no `.env` file of the repository is read. */
const WORK_DIR = mkdtempSync(join(tmpdir(), "graphql-auth-cli-cwd-"));

/**
 * Runs `graphql-auth <args>` with `env` as its whole environment; `input` is written to its standard
 * input (text as UTF-8, or raw bytes), which is then closed (a pipe, never a terminal).
 */
export function runCli(args: readonly string[], env: Record<string, string>, input: string | Uint8Array = ""): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env, cwd: WORK_DIR, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    // A CLI that never exits fails the test instead of hanging the suite.
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
  });
}

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`) and types each answer, text or raw bytes,
 * once its prompt has appeared, as a person would. Resolves with everything the terminal showed.
 */
export function runOnTerminal(
  args: readonly string[],
  env: Record<string, string>,
  answers: readonly (string | Buffer)[],
): Promise<{ code: number | null; screen: string }> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, CLI_PATH, ...args].map(quote).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qefc", command, "/dev/null"], { env, stdio: ["pipe", "pipe", "pipe"] });
    let screen = "";
    let typed = 0;
    const prompts = ["Password:", "Repeat password:"];
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      screen += text;
      // Type the next answer only once its prompt is on screen ("Password:" is not part of "Repeat password:").
      while (typed < answers.length && screen.includes(prompts[typed]!)) {
        child.stdin.write(Buffer.concat([Buffer.from(answers[typed]!), Buffer.from("\r")]));
        typed += 1;
      }
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}
