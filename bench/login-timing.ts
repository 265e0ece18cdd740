/** Login timing: a wrong password for each stored-hash family against an unknown username, over HTTP, at the real policy. */
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { djangoArgon2, djangoPbkdf2, passlibPbkdf2, plainBcrypt } from "./legacy-hashes";

export interface LoginTimingOptions {
  /** Samples of each kind (CONTRACT section 7 asks for 200). */
  readonly samples?: number;
  /** The argon2 policy; the server's defaults unless given. */
  readonly argon2?: { readonly memoryKib: number; readonly timeCost: number; readonly parallelism: number };
}

export interface LoginTimingResult {
  readonly samples: number;
  readonly unknownUser: Distribution;
  /** A wrong password for an account of each family, with its ratio to the unknown username. */
  readonly families: ReadonlyArray<{ readonly family: string; readonly timing: Distribution; readonly ratio: number }>;
  /** The worst ratio of medians (family / unknown username), furthest from 1 either way; 1 is ideal. */
  readonly ratio: number;
}

export interface Distribution {
  readonly medianMs: number;
  readonly p10Ms: number;
  readonly p90Ms: number;
}

const LOGIN = "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";

/** The families of issue 11 finding 4, at the costs those systems really use. */
async function storedHashes(current: (password: string) => Promise<string>): Promise<Array<[string, string]>> {
  const password = randomBytes(12).toString("hex");
  return [
    ["argon2id, current policy", await current(password)],
    ["bcrypt cost 10", plainBcrypt(password, 10)],
    ["bcrypt cost 12", plainBcrypt(password, 12)],
    ["Django pbkdf2_sha256 870000", djangoPbkdf2(password, 870_000)],
    ["passlib pbkdf2-sha256 29000", passlibPbkdf2(password, "sha256", 29_000)],
    ["argon2id m=102400,t=2,p=8 (Django)", await djangoArgon2(password)],
  ];
}

/**
 * Starts the real server on a fresh SQLite database, creates one account per family (the floor is
 * calibrated from them at start-up, as after an import), then takes turns: a failed login with an
 * unknown username, then a wrong password for each account, timing each round trip. The limiter's
 * budget is raised for the run so every sample is a real verification.
 */
export async function measureLoginTiming(options: LoginTimingOptions = {}): Promise<LoginTimingResult> {
  const samples = options.samples ?? 200;
  const dir = mkdtempSync(join(tmpdir(), "graphql-auth-timing-"));
  const argon2 = options.argon2;
  const env = {
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: `sqlite:${join(dir, "timing.db")}`,
    SECRET_KEY: randomBytes(32).toString("hex"),
    LOG_LEVEL: "silent",
    LOGIN_MAX_FAILURES: "1000",
    ...(argon2 && {
      ARGON2_MEMORY_KIB: String(argon2.memoryKib),
      ARGON2_TIME_COST: String(argon2.timeCost),
      ARGON2_PARALLELISM: String(argon2.parallelism),
    }),
  };
  // A first app writes the accounts; the measured one starts on them, as a server does after an import.
  const seeding = await createApp(loadConfig(env));
  const accounts: Array<[string, string]> = [];
  try {
    await seeding.databaseReady;
    for (const [family, passwordHash] of await storedHashes((p) => seeding.passwords.hash(p))) {
      const username = `timing_${randomBytes(4).toString("hex")}`;
      await seeding.users.createUser({ username, passwordHash, scopes: ["me"] });
      accounts.push([family, username]);
    }
  } finally {
    await seeding.close();
  }
  const app = await createApp(loadConfig(env));
  try {
    const url = `${await app.listen()}/graphql`;
    await app.databaseReady;
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
    const byFamily = accounts.map(() => [] as number[]);
    // Warm-up: JIT, worker threads, the SQLite page cache.
    for (let i = 0; i < 5; i++) {
      await time(`nobody_${randomBytes(4).toString("hex")}`);
      for (const [, username] of accounts) await time(username);
    }
    // Taking turns, so drift in machine load falls on every kind alike.
    for (let i = 0; i < samples; i++) {
      unknown.push(await time(`nobody_${randomBytes(4).toString("hex")}`));
      for (let k = 0; k < accounts.length; k++) byFamily[k]!.push(await time(accounts[k]![1]));
    }
    const unknownUser = distribution(unknown);
    const families = accounts.map(([family], k) => {
      const timing = distribution(byFamily[k]!);
      return { family, timing, ratio: round(timing.medianMs / unknownUser.medianMs, 1000) };
    });
    const ratio = families.map((f) => f.ratio).reduce((worst, r) => (Math.abs(Math.log(r)) > Math.abs(Math.log(worst)) ? r : worst), 1);
    return { samples, unknownUser, families, ratio };
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

function round(ms: number, factor = 100): number {
  return Math.round(ms * factor) / factor;
}

/** The report as printed by `npm run bench:login-timing`. */
export function formatLoginTiming(result: LoginTimingResult): string {
  const row = (name: string, d: Distribution, ratio: string) => `| ${name} | ${d.medianMs} | ${d.p10Ms} | ${d.p90Ms} | ${ratio} |`;
  return [
    `Login timing, ${result.samples} samples each (CONTRACT section 15: a wrong password costs the same whatever the stored hash, and as much as an unknown username)`,
    "",
    "| wrong password for | median ms | p10 ms | p90 ms | median / unknown |",
    "|---|---|---|---|---|",
    row("unknown username", result.unknownUser, "1"),
    ...result.families.map((f) => row(f.family, f.timing, f.ratio.toFixed(3))),
    "",
    `worst ratio of medians (family / unknown): ${result.ratio.toFixed(3)}`,
  ].join("\n");
}

if (require.main === module) {
  const json = process.argv.includes("--json");
  const samplesArg = process.argv.find((a) => a.startsWith("--samples="));
  measureLoginTiming({ samples: samplesArg ? Number(samplesArg.slice("--samples=".length)) : undefined }).then(
    (result) => process.stdout.write(`${json ? JSON.stringify(result) : formatLoginTiming(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`login timing failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
