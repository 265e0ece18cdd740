/**
 * `npm run soak -- --minutes N [--json FILE]` (CONTRACT section 14): a mixed load against
 * WEB_CONCURRENCY=2 on PostgreSQL, a 10 s database cut and a SIGKILLed worker during it, then a
 * login flood. Prints the figures and a verdict per rule; exits 1 when a rule fails. Everything
 * it starts (the server, the proxy, the SMTP sink, its database, its temporary folder) it ends.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { loadConfig } from "../../src/config";
import { HTTP_LIMITS } from "../../src/http/limits";
import { MAX_QUEUE_WAIT_MS } from "../../src/passwords/passwords";
import { runFlood } from "./flood";
import { importFloodUsers } from "./flood-users";
import { clientAgent } from "./http";
import { freshPassword, loginUser, pairOf, registerUser, runMixedLoad, type PoolUser } from "./load";
import { createSoakDatabase, PG_ADMIN_URL, type SoakDatabase } from "./postgres";
import { startCuttableProxy, type CuttableProxy } from "./proxy";
import { SlotSampler, WINDOW_MS } from "./memory";
import { buildReport, formatReport, type SlotMemory } from "./report";
import { rssMiB, startServer, type SoakServer } from "./server";
import { startSmtpSink, type SmtpSink } from "./smtp-sink";
import { type Timeline } from "./verdicts";

const CUT_MS = 10_000;
const WORKERS = 2;
const POOL_USERS = 24;
const FLOOD_LOGINS = 500;
/** After the cut, this long before the SIGKILL: the pool has reconnected, the kill is a fault of its own. */
const KILL_AFTER_CUT_MS = 5_000;
/** After the killed worker's slot has a new process: time to start (migrate check, dummy hash) before "after". */
const RESTART_SETTLE_MS = 5_000;
/** However short the run, this much load follows the faults, so "after" has figures. */
const MIN_AFTER_MS = 10_000;

interface Options {
  readonly minutes: number;
  readonly json?: string;
}

function parseArgs(argv: readonly string[]): Options {
  let minutes = 10;
  let json: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === "--minutes") minutes = Number(argv[++i]);
    else if (arg === "--json") json = argv[++i];
    else throw new Error(`unknown argument ${arg}; usage: npm run soak -- [--minutes N] [--json FILE]`);
  }
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) throw new Error("--minutes takes a number of minutes above 0");
  if (json === "") throw new Error("--json takes a file name");
  return { minutes, json };
}

/** Resolves at performance.now() `at` (at once if it has passed). */
const sleepUntil = (at: number) => sleep(Math.max(0, at - performance.now()));

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const cleanups: Array<() => Promise<void> | void> = [];
  let code = 1;
  try {
    const dir = mkdtempSync(join(tmpdir(), "graphql-auth-soak-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const database: SoakDatabase = await createSoakDatabase();
    cleanups.push(() => database.drop());
    const pg = new URL(PG_ADMIN_URL);
    const proxy: CuttableProxy = await startCuttableProxy({ host: pg.hostname, port: Number(pg.port || 5432) });
    cleanups.push(() => proxy.close());
    const smtp: SmtpSink = await startSmtpSink();
    cleanups.push(() => smtp.close());

    const env: Record<string, string> = {
      NODE_ENV: "production",
      DATABASE_URL: proxy.urlFor(database.url),
      REGISTRATION: "open",
      SMTP_URL: smtp.url,
      SECRET_KEY: randomBytes(32).toString("hex"),
      LOG_LEVEL: "warn",
      // The clients stand for a crowd behind one proxy: X-Forwarded-For spreads the per-address limits.
      TRUST_PROXY: "1",
    };
    // The server's own reading of the same settings: the argon2 cost, the slots, the queue bound.
    const config = loadConfig({ ...env, WEB_CONCURRENCY: String(WORKERS) });
    const settings = {
      hashConcurrency: config.hashConcurrency,
      argon2MemoryKiB: config.argon2.memoryCost,
      hashQueueMax: config.hashQueueMax,
      reuseIntervalS: config.refreshTokenReuseInterval,
      maxQueueWaitMs: MAX_QUEUE_WAIT_MS,
    };
    const run = randomBytes(3).toString("hex");
    process.stdout.write(`soak: importing ${FLOOD_LOGINS} users for the flood\n`);
    const floodUsers = importFloodUsers({ ...env, DATABASE_URL: database.url }, FLOOD_LOGINS, dir, `soak-${run}`);
    const logFile = join(dir, "server.log");
    process.stdout.write(`soak: starting the server (log: ${logFile})\n`);
    const server: SoakServer = await startServer(env, WORKERS, logFile, dir);
    cleanups.push(() => server.stop());

    const setup = { port: server.port, agent: clientAgent(), timeoutMs: 60_000 };
    const users: PoolUser[] = Array.from({ length: POOL_USERS }, (_, i) => ({
      username: `soak-${run}-${i}`,
      email: `soak-${run}-${i}@example.test`,
      password: freshPassword(),
    }));
    const tokens: string[] = [];
    for (const user of users) {
      const registered = await registerUser(setup, user);
      if (registered.body?.data?.register?.id === undefined) throw new Error(`register failed: ${JSON.stringify(registered.body)}`);
      const pair = pairOf(await loginUser(setup, user));
      if (!pair) throw new Error("a pool user's login failed");
      tokens.push(pair.access);
    }
    setup.agent.destroy();

    const slots = server.workers();
    if (slots.length !== WORKERS) throw new Error(`expected ${WORKERS} workers, found ${slots.length}`);
    const none = { lowMiB: NaN, highMiB: NaN, samples: 0 };
    const memory: SlotMemory[] = slots.map((pid, slot) => ({ slot, pids: [pid], startMiB: rssMiB(pid), middle: none, end: none }));
    const current = (m: SlotMemory) => m.pids[m.pids.length - 1]!;
    const sampler = new SlotSampler(() => memory.map(current));
    sampler.start();
    cleanups.push(() => sampler.stop());

    const durationMs = options.minutes * 60_000;
    const loadStart = performance.now();
    let stopAt = loadStart + durationMs;
    const load = runMixedLoad({
      port: server.port,
      running: () => performance.now() < stopAt,
      users,
      tokens,
      meClients: 8,
      chainClients: 4,
      mixedClients: 2,
      timeoutMs: 15_000,
      hashTimeoutMs: HTTP_LIMITS.connectionTimeoutMs,
    });
    process.stdout.write(`soak: mixed load for ${options.minutes} min\n`);

    // The faults: a quarter in (at least 5 s), the cut; then the kill; then at least MIN_AFTER_MS of load.
    await sleepUntil(loadStart + Math.max(5_000, durationMs / 4));
    const cutStart = performance.now();
    await proxy.cut(CUT_MS);
    const cutEnd = performance.now();
    await sleep(KILL_AFTER_CUT_MS);
    const victim = slots[1]!;
    const killAt = performance.now();
    process.kill(victim, "SIGKILL");
    let restartedAfterMs = NaN;
    for (let i = 0; i < 600 && Number.isNaN(restartedAfterMs); i += 1) {
      const fresh = server.workers().find((pid) => !slots.includes(pid));
      if (fresh !== undefined) {
        restartedAfterMs = performance.now() - killAt;
        memory[1]!.pids.push(fresh);
      } else await sleep(100);
    }
    await sleep(RESTART_SETTLE_MS);
    const faultsEnd = performance.now();
    stopAt = Math.max(stopAt, faultsEnd + MIN_AFTER_MS);
    const timeline: Timeline = { cutStart, cutEnd, killAt, faultsEnd };
    process.stdout.write("soak: faults done\n");

    // Two windows of the time after the faults, each ending at its point: the middle, and the stop.
    const middle = faultsEnd + (stopAt - faultsEnd) / 2;
    const window = Math.min(WINDOW_MS, (stopAt - faultsEnd) / 2);
    await sleepUntil(stopAt);
    sampler.stop();
    for (const m of memory) {
      m.middle = sampler.window(m.slot, middle - window, middle);
      m.end = sampler.window(m.slot, stopAt - window, stopAt);
    }
    const { sent, chains } = await load;
    const loadEnd = performance.now();

    process.stdout.write(`soak: login flood (${FLOOD_LOGINS} at once)\n`);
    const flood = await runFlood({
      port: server.port,
      workers: memory.map(current),
      logins: FLOOD_LOGINS,
      users: floodUsers,
      tokens,
      // Past the server's own bound on a silent socket, a login still open would be a held socket.
      timeoutMs: HTTP_LIMITS.connectionTimeoutMs + 5_000,
      baselineMs: 5_000,
    });

    const reuse = await database.query<{ session_id: string }>("SELECT session_id FROM auth_events WHERE type = 'refresh.reuse_detected'");
    const primaryAlive = server.alive();
    await server.stop();
    const log = readFileSync(logFile, "utf8");
    const unexpectedLogErrors = log
      .split("\n")
      .filter((line) => /"level":(50|60)/.test(line) && !line.includes(`"workerPid":${victim}`))
      .map((line) => line.slice(0, 300));

    const report = buildReport({
      minutes: options.minutes,
      settings,
      loadStart,
      loadEnd,
      timeline,
      sent,
      chains,
      reuseDetected: new Set(reuse.map((r) => r.session_id)),
      memory,
      restartedAfterMs,
      primaryAlive,
      flood,
      unexpectedLogErrors,
      passwordInLog: [...users, floodUsers[0]!].some((u) => log.includes(u.password)),
      mailsReceived: smtp.received,
      proxyResets: proxy.resets,
    });
    process.stdout.write(`\n${formatReport(report)}\n`);
    if (options.json) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
    code = report.pass ? 0 : 1;
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        process.stderr.write(`soak: cleanup: ${(error as Error).message}\n`);
      }
    }
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
