/** Benchmark: event-loop delay while each stored-hash format verifies, and the time to import 100,000 users. */
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { once } from "node:events";
import bcrypt from "bcryptjs";
import { createPostgresDatabase, POSTGRES_ADMIN_URL } from "./lib/postgres";
import { PasswordService } from "../src/passwords/passwords";
import { loadConfig } from "../src/config";
import { createDb } from "../src/db/database";
import { migrateToLatest } from "../src/db/migrate";
import { importUsers } from "../src/users/import-users";
import { UserImportStore } from "../src/users/user-import.store";
import * as make from "./legacy-hashes";

export interface VerifyRow {
  readonly format: string;
  readonly parameters: string;
  readonly verifications: number;
  /** Verifications per second with every pool thread busy. */
  readonly perSecond: number;
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
}

export interface ImportRow {
  readonly dialect: string;
  readonly lines: number;
  readonly seconds: number;
  readonly linesPerSecond: number;
}

export interface FormatsBenchResult {
  readonly verify: readonly VerifyRow[];
  readonly import: readonly ImportRow[];
}

const PASSWORD = "correct horse battery staple";

/** Runs `work` while sampling the event loop's delay every 10 ms; the figures are in milliseconds. */
async function underMonitor(work: () => Promise<number>): Promise<{ count: number; seconds: number; p99: number; max: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const started = process.hrtime.bigint();
  const count = await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  histogram.disable();
  return { count, seconds, p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 };
}

/** Runs `batch` again until `seconds` have passed (at least once), so every row has enough samples. */
async function repeatFor(seconds: number, batch: () => Promise<number>): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let count = 0;
  do count += await batch();
  while (Date.now() < until);
  return count;
}

/**
 * Verifies the right password against each format at its system's real default cost, through the
 * PasswordService (its worker pool, HASH_CONCURRENCY threads), and records the event-loop delay
 * meanwhile. Two reference rows: an idle loop, and bcryptjs's own async API on the main thread.
 */
export async function benchVerification(minSeconds = 2): Promise<VerifyRow[]> {
  const config = loadConfig({ NODE_ENV: "test", SECRET_KEY: "x".repeat(32) });
  const threads = config.hashConcurrency;
  const passwords = await PasswordService.create(config.argon2, threads);
  const { memoryCost: m, timeCost: t, parallelism: p } = config.argon2;
  const cases: Array<[string, string, string]> = [
    ["argon2id (current policy)", `m=${m},t=${t},p=${p}`, await passwords.hash(PASSWORD)],
    ["bcrypt $2b$", "cost 12", make.plainBcrypt(PASSWORD, 12)],
    ["passlib $pbkdf2-sha256$", "29000 rounds (passlib default)", make.passlibPbkdf2(PASSWORD, "sha256", 29000)],
    ["passlib $pbkdf2-sha512$", "25000 rounds (passlib default)", make.passlibPbkdf2(PASSWORD, "sha512", 25000)],
    ["passlib $pbkdf2$ (sha1)", "131000 rounds (passlib default)", make.passlibPbkdf2(PASSWORD, "sha1", 131000)],
    ["passlib $bcrypt-sha256$ v=2", "cost 12", make.passlibBcryptSha256(PASSWORD, 12)],
    ["Django pbkdf2_sha256$", "600000 iterations", make.djangoPbkdf2(PASSWORD, 600000)],
    ["Django bcrypt_sha256$", "cost 12", make.djangoBcryptSha256(PASSWORD, 12)],
    ["Django argon2$argon2id$", "m=102400,t=2,p=8 (Django default)", await make.djangoArgon2(PASSWORD)],
  ];
  const rows: VerifyRow[] = [];
  // Two per thread at a time: every thread busy, and a queue behind them, as under a login flood.
  const n = threads * 2;
  const row = (format: string, parameters: string, r: Awaited<ReturnType<typeof underMonitor>>): VerifyRow => ({
    format,
    parameters,
    verifications: r.count,
    perSecond: r.count / r.seconds,
    loopDelayP99Ms: r.p99,
    loopDelayMaxMs: r.max,
  });
  try {
    rows.push(row("(idle event loop, reference)", "1 s", await underMonitor(() => new Promise((done) => setTimeout(() => done(0), 1000)))));
    for (const [format, parameters, stored] of cases) {
      const result = await underMonitor(() =>
        repeatFor(minSeconds, async () => {
          const outcomes = await Promise.all(Array.from({ length: n }, () => passwords.verify(PASSWORD, stored)));
          if (!outcomes.every((o) => o.ok)) throw new Error(`${format}: the benchmark hash did not verify`);
          return n;
        }),
      );
      rows.push(row(format, parameters, result));
    }
    const reference = cases[1]![2];
    const onLoop = await underMonitor(() =>
      repeatFor(minSeconds, async () => {
        await Promise.all(Array.from({ length: n }, () => bcrypt.compare(PASSWORD, reference)));
        return n;
      }),
    );
    rows.push(row("bcryptjs async on the event loop (reference, not used)", "cost 12", onLoop));
  } finally {
    await passwords.close();
  }
  return rows;
}

const B64 = (bytes: number) => randomBytes(bytes).toString("base64").replace(/=+$/, "");
const BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const bcryptText = (chars: number) => Array.from(randomBytes(chars), (b) => BCRYPT_ALPHABET[b & 63]).join("");

/** A well-formed stored hash at a realistic cost. Import never computes a hash, so random bytes serve. */
function realisticHash(i: number): string {
  switch (i % 6) {
    case 0:
      return `pbkdf2_sha256$600000$${B64(16)
        .replace(/[^A-Za-z0-9]/g, "a")
        .slice(0, 22)}$${randomBytes(32).toString("base64")}`;
    case 1:
      return `$pbkdf2-sha256$29000$${B64(16).replace(/\+/g, ".")}$${B64(32).replace(/\+/g, ".")}`;
    case 2:
      return `$2b$12$${bcryptText(53)}`;
    case 3:
      return `$bcrypt-sha256$v=2,t=2b,r=12$${bcryptText(22)}$${bcryptText(31)}`;
    case 4:
      return `argon2$argon2id$v=19$m=102400,t=2,p=8$${B64(16)}$${B64(16)}`;
    default:
      return `$argon2id$v=19$m=65536,t=3,p=4$${B64(16)}$${B64(32)}`;
  }
}

/** Writes `lines` users, every field present, as an export would. */
async function writeImportFile(path: string, lines: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < lines; i++) {
    const user = {
      username: `user${i}_${randomBytes(3).toString("hex")}`,
      password_hash: realisticHash(i),
      email: `user${i}@example.com`,
      full_name: `User Number ${i}`,
      scopes: i % 2 === 0 ? ["me", "items"] : "me items",
      disabled: i % 50 === 0,
    };
    if (!out.write(`${JSON.stringify(user)}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

/**
 * Times `importUsers` over a fresh database for a generated file of `lines` users: on SQLite, and
 * on PostgreSQL when `postgresAdminUrl` answers (a database is made and dropped for the run).
 */
export async function benchImport(lines = 100_000, postgresAdminUrl = POSTGRES_ADMIN_URL): Promise<ImportRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "graphql-auth-bench-"));
  const file = join(dir, "users.jsonl");
  const rows: ImportRow[] = [];
  try {
    await writeImportFile(file, lines);
    rows.push(await timeImport("sqlite", `sqlite:${join(dir, "bench.db")}`, file, lines));
    const pg = await createPostgresDatabase(postgresAdminUrl);
    if (pg) {
      try {
        rows.push(await timeImport("postgres", pg.url, file, lines));
      } finally {
        await pg.drop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

async function timeImport(dialect: string, url: string, file: string, lines: number): Promise<ImportRow> {
  const database = createDb(url);
  try {
    await migrateToLatest(database.db);
    const policy = { memoryCost: 65536, timeCost: 3, parallelism: 4 };
    const started = process.hrtime.bigint();
    const result = await importUsers({ store: new UserImportStore(database.db, ["me", "items"]), policy }, file);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.created !== lines) throw new Error(`${dialect}: imported ${result.created} of ${lines} (${result.rejections[0]?.reason})`);
    return { dialect, lines, seconds, linesPerSecond: lines / seconds };
  } finally {
    await database.close();
  }
}

/** Both measurements, for the bench runner. */
export async function runFormatsBench(): Promise<FormatsBenchResult> {
  return { verify: await benchVerification(), import: await benchImport() };
}

/** The result as two markdown tables. */
export function formatsMarkdown(result: FormatsBenchResult): string {
  const f = (n: number, digits = 1) => n.toFixed(digits);
  return [
    `### Event-loop delay while each format verifies (${availableParallelism()} cores, pool of HASH_CONCURRENCY threads)`,
    "",
    "The loop is sampled every 10 ms, so an idle loop reads about 10 ms; anything above is delay.",
    "",
    "| format | parameters | verifications | per second | event-loop p99 (ms) | max (ms) |",
    "|---|---|---:|---:|---:|---:|",
    ...result.verify.map(
      (r) => `| ${r.format} | ${r.parameters} | ${r.verifications} | ${f(r.perSecond)} | ${f(r.loopDelayP99Ms)} | ${f(r.loopDelayMaxMs)} |`,
    ),
    "",
    "### `users import` of generated JSONL",
    "",
    "| database | lines | seconds | lines per second |",
    "|---|---:|---:|---:|",
    ...result.import.map((r) => `| ${r.dialect} | ${r.lines} | ${f(r.seconds, 2)} | ${f(r.linesPerSecond, 0)} |`),
    "",
  ].join("\n");
}

if (require.main === module) {
  runFormatsBench()
    .then((result) => process.stdout.write(formatsMarkdown(result)))
    .catch((error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exitCode = 1;
    });
}
