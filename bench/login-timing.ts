/** Login timing: an unknown username against a wrong password, over HTTP, at the real argon2 policy. */
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";

export interface LoginTimingOptions {
  /** Samples of each kind (CONTRACT section 7 asks for 200). */
  readonly samples?: number;
  /** The argon2 policy; the server's defaults unless given. */
  readonly argon2?: { readonly memoryKib: number; readonly timeCost: number; readonly parallelism: number };
}

export interface LoginTimingResult {
  readonly samples: number;
  readonly unknownUser: Distribution;
  readonly wrongPassword: Distribution;
  /** Median of unknown-username logins over median of wrong-password logins; 1 is ideal. */
  readonly ratio: number;
}

export interface Distribution {
  readonly medianMs: number;
  readonly p10Ms: number;
  readonly p90Ms: number;
}

const LOGIN = "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";

/**
 * Starts the real server on a fresh SQLite database, creates one user, then alternates failed
 * logins with an unknown username and with that user's name and a wrong password, timing each
 * round trip. The limiter's budget is raised for the run so every sample is a real verification.
 */
export async function measureLoginTiming(options: LoginTimingOptions = {}): Promise<LoginTimingResult> {
  const samples = options.samples ?? 200;
  const dir = mkdtempSync(join(tmpdir(), "graphql-auth-timing-"));
  const argon2 = options.argon2;
  const config = loadConfig({
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: `sqlite:${join(dir, "timing.db")}`,
    SECRET_KEY: randomBytes(32).toString("hex"),
    LOG_LEVEL: "silent",
    LOGIN_MAX_FAILURES: "1000",
    ...(argon2 && { ARGON2_MEMORY_KIB: String(argon2.memoryKib), ARGON2_TIME_COST: String(argon2.timeCost), ARGON2_PARALLELISM: String(argon2.parallelism) }),
  });
  const app = await createApp(config);
  try {
    const url = `${await app.listen()}/graphql`;
    const username = `timing_${randomBytes(4).toString("hex")}`;
    await app.users.createUser({ username, passwordHash: await app.passwords.hash(randomBytes(16).toString("hex")), scopes: ["me"] });
    const time = async (u: string): Promise<number> => {
      const started = process.hrtime.bigint();
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: LOGIN, variables: { u, p: `wrong-${randomBytes(6).toString("hex")}` } }),
      });
      const body = (await response.json()) as { errors?: Array<{ message: string }> };
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      if (body.errors?.[0]?.message !== "Incorrect username or password") throw new Error(`unexpected answer: ${JSON.stringify(body)}`);
      return elapsed;
    };
    const unknown: number[] = [];
    const wrong: number[] = [];
    // Warm-up: JIT, worker threads, the SQLite page cache.
    for (let i = 0; i < 10; i++) {
      await time(`nobody_${randomBytes(4).toString("hex")}`);
      await time(username);
    }
    // Alternating, so drift in machine load falls on both kinds alike.
    for (let i = 0; i < samples; i++) {
      unknown.push(await time(`nobody_${randomBytes(4).toString("hex")}`));
      wrong.push(await time(username));
    }
    const unknownUser = distribution(unknown);
    const wrongPassword = distribution(wrong);
    return { samples, unknownUser, wrongPassword, ratio: unknownUser.medianMs / wrongPassword.medianMs };
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { medianMs: at(0.5), p10Ms: at(0.1), p90Ms: at(0.9) };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** The report as printed by `npm run bench:login-timing`. */
export function formatLoginTiming(result: LoginTimingResult): string {
  const row = (name: string, d: Distribution) => `| ${name} | ${d.medianMs} | ${d.p10Ms} | ${d.p90Ms} |`;
  return [
    `Login timing, ${result.samples} samples each (CONTRACT section 7: an unknown username costs what a wrong password costs)`,
    "",
    "| login with | median ms | p10 ms | p90 ms |",
    "|---|---|---|---|",
    row("unknown username", result.unknownUser),
    row("wrong password", result.wrongPassword),
    "",
    `ratio of medians (unknown / wrong): ${result.ratio.toFixed(3)}`,
  ].join("\n");
}

if (require.main === module) {
  const json = process.argv.includes("--json");
  measureLoginTiming().then(
    (result) => process.stdout.write(`${json ? JSON.stringify(result) : formatLoginTiming(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`login timing failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
