/**
 * The pinned table: every server started as an outsider starts it, pinned with `taskset -a -c 1`
 * (all its threads), the load a separate process (wrk) pinned with `taskset -c 0`. graphql-auth-server
 * is `node <npm start's flags> dist/main.js` with NODE_ENV=production, its user made by the CLI and
 * its token from POST /token; PostgreSQL, when it answers, runs unpinned as it is.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import jwt from "jsonwebtoken";
import { graphql } from "./load";
import { pickLoadTool, runOutsideLoad, type LoadTool, type OutsideRequest } from "./outside-load";
import { createPostgresDatabase } from "./postgres";
import { freePort, ROOT, sampleMemory, SERVER_NODE_FLAGS, settle, stopChild } from "./processes";
import { alternate, pairedRatio, type Measured } from "./rounds";
import { ITEMS_QUERY, ME_QUERY } from "./sections";

const run = promisify(execFile);

/** The cores: the servers share SERVER_CORE, one at a time under load; the load generator has LOAD_CORE. */
const SERVER_CORE = 1;
const LOAD_CORE = 0;

export interface PinnedOptions {
  readonly rounds: number;
  /** Whole seconds a load. */
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  /** Environment for every graphql-auth-server row, for experiments (e.g. METRICS_PORT=0). */
  readonly authEnv?: Record<string, string>;
  /** When set, one more `me` row: the LOG_LEVEL=warn server started with these node flags instead of npm start's. */
  readonly compareNodeFlags?: readonly string[];
}

export interface PinnedRow {
  readonly key: string;
  readonly label: string;
  readonly measured: Measured;
  /** Highest resident set size sampled during the whole pinned run, MiB. */
  readonly peakRssMiB: number;
  readonly comparison?: string;
}

export interface PinnedResult {
  readonly available: boolean;
  readonly tool?: LoadTool;
  readonly notes: readonly string[];
  readonly rows: readonly PinnedRow[];
  readonly ratios: Record<string, number>;
}

interface Pinned {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

interface Target {
  readonly key: string;
  readonly label: string;
  readonly server: Pinned;
  readonly request: OutsideRequest;
}

type Progress = (line: string) => void;

const PASSWORD = "correct horse battery staple";

/** Whether this machine can pin: Linux, `taskset`, and cores 0 and 1. */
async function pinning(): Promise<string | undefined> {
  if (process.platform !== "linux") return "pinning needs Linux (taskset)";
  try {
    await run("taskset", ["-c", `${LOAD_CORE},${SERVER_CORE}`, "true"]);
    return undefined;
  } catch {
    return "taskset is missing (util-linux) or this machine has fewer than 2 cores";
  }
}

/** Runs the pinned loads: plain Apollo, graphql-auth-server at warn and info, on PostgreSQL, FastAPI. */
export async function pinnedTable(o: PinnedOptions, progress: Progress): Promise<PinnedResult> {
  const cannot = await pinning();
  if (cannot) return { available: false, notes: [`pinned table skipped: ${cannot}`], rows: [], ratios: {} };
  const { tool, note } = await pickLoadTool();
  const notes = note ? [note] : [];
  const dir = mkdtempSync(join(tmpdir(), "graphql-auth-pinned-"));
  const log = openSync(join(dir, "servers.log"), "a");
  const servers: Pinned[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const secretKey = randomBytes(32).toString("hex");
    const sqlite = `sqlite:${join(dir, "data", "bench.db")}`;
    const env = (databaseUrl: string, logLevel: string) => ({
      NODE_ENV: "production",
      DATABASE_URL: databaseUrl,
      SECRET_KEY: secretKey,
      LOG_LEVEL: logLevel,
      ...o.authEnv,
    });
    await addUser(env(sqlite, "warn"), dir);
    const start = async (name: string, argv: string[], vars: Record<string, string>, ready: (url: string) => Promise<void>) => {
      const server = await startPinned(name, argv, vars, dir, log, ready);
      servers.push(server);
      return server;
    };
    const main = [process.execPath, ...SERVER_NODE_FLAGS, join(ROOT, "dist", "main.js")];
    progress("pinned: starting the servers on core 1");
    const plain = await start(
      "plain",
      [process.execPath, join(__dirname, "..", "servers", "plain-server.js")],
      { NODE_ENV: "production" },
      waitForPort,
    );
    const warn = await start("auth warn", main, env(sqlite, "warn"), waitForReady);
    const info = await start("auth info", main, env(sqlite, "info"), waitForReady);

    const graphqlRequest = (server: Pinned, query: string, token?: string): OutsideRequest => ({
      url: `${server.url}/graphql`,
      method: "POST",
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
    });
    const targets: Target[] = [];
    const add = (key: string, label: string, server: Pinned, query: string, token?: string) =>
      targets.push({ key, label, server, request: graphqlRequest(server, query, token) });
    const warnToken = await tokenFrom(warn.url);
    const infoToken = await tokenFrom(info.url);
    add("plain me", "plain Apollo: `me`", plain, ME_QUERY);
    add("auth me warn", "graphql-auth-server: `me` (LOG_LEVEL=warn)", warn, ME_QUERY, warnToken);
    add("auth me info", "graphql-auth-server: `me` (LOG_LEVEL=info)", info, ME_QUERY, infoToken);
    if (o.compareNodeFlags) {
      const flags = o.compareNodeFlags;
      const other = await start(
        "auth flags",
        [process.execPath, ...flags, join(ROOT, "dist", "main.js")],
        env(sqlite, "warn"),
        waitForReady,
      );
      add(
        "auth me warn flags",
        `graphql-auth-server: \`me\` (LOG_LEVEL=warn, node ${flags.join(" ")})`,
        other,
        ME_QUERY,
        await tokenFrom(other.url),
      );
    }
    // The same server with its metrics listener on: counting must cost nothing on `me` (issue 18).
    const metered = await start("auth metrics", main, { ...env(sqlite, "warn"), METRICS_PORT: String(await freePort()) }, waitForReady);
    add(
      "auth me warn metrics",
      "graphql-auth-server: `me` (LOG_LEVEL=warn, METRICS_PORT set)",
      metered,
      ME_QUERY,
      await tokenFrom(metered.url),
    );
    add("plain myItems", "plain Apollo: `myItems`", plain, ITEMS_QUERY);
    add("auth myItems warn", "graphql-auth-server: `myItems` (LOG_LEVEL=warn)", warn, ITEMS_QUERY, warnToken);
    add("auth myItems info", "graphql-auth-server: `myItems` (LOG_LEVEL=info)", info, ITEMS_QUERY, infoToken);

    const pg = await createPostgresDatabase();
    if (pg) {
      cleanups.push(pg.drop);
      await addUser(env(pg.url, "warn"), dir);
      const onPg = await start("auth postgres", main, env(pg.url, "warn"), waitForReady);
      add(
        "auth me postgres",
        "graphql-auth-server: `me` on PostgreSQL (LOG_LEVEL=warn; PostgreSQL unpinned)",
        onPg,
        ME_QUERY,
        await tokenFrom(onPg.url),
      );
    } else notes.push("no PostgreSQL at BENCH_POSTGRES_URL or 127.0.0.1:5432: the PostgreSQL row is skipped");

    const python = await fastapiPython();
    if (python) {
      const port = await freePort();
      const argv = [python, "-m", "uvicorn", "fastapi_me:app", "--loop", "uvloop", "--host", "127.0.0.1", "--port", String(port)];
      const fastapi = await start(
        "fastapi",
        [...argv, "--log-level", "warning", "--app-dir", join(ROOT, "bench", "servers")],
        { SECRET_KEY: secretKey, PORT: String(port), PYTHONDONTWRITEBYTECODE: "1" },
        waitForPort,
      );
      const token = jwt.sign({ sub: "johndoe" }, secretKey, { algorithm: "HS256", expiresIn: "1h" });
      targets.push({
        key: "fastapi me",
        label: "FastAPI security tutorial: `GET /users/me/` (uvicorn + uvloop, --log-level warning)",
        server: fastapi,
        request: { url: `${fastapi.url}/users/me/`, method: "GET", headers: { Authorization: `Bearer ${token}` } },
      });
    } else
      notes.push(
        "FastAPI row skipped: python3 cannot import fastapi, uvicorn, uvloop and jwt (`apt-get install -y python3-fastapi uvicorn python3-uvloop python3-jwt`)",
      );

    for (const target of targets) await expectOk(target);
    const byKey = new Map(targets.map((t) => [t.key, t]));
    const keys = targets.map((t) => t.key);
    const load = (key: string, seconds: number) => {
      const target = byKey.get(key)!;
      return runOutsideLoad(tool, {
        request: target.request,
        connections: o.connections,
        seconds,
        core: LOAD_CORE,
        serverPid: target.server.pid,
        scratchDir: dir,
      });
    };
    const memory = sampleMemory(servers.map((s) => s.pid));
    progress(`pinned: ${o.rounds} rounds of ${o.seconds} s at ${o.connections} connections, ${tool} on core ${LOAD_CORE}`);
    const measured = await alternate(
      keys,
      o.rounds,
      (k) => load(k, o.seconds),
      (k) => load(k, o.warmupSeconds),
      (line) => progress(`pinned: ${line}`),
      () => settle(servers.map((s) => s.pid)),
    );
    const peaks = memory.stop();
    for (const target of targets) await expectOk(target);
    const peakOf = (server: Pinned) => peaks[servers.indexOf(server)] ?? NaN;
    return { available: true, tool, notes, ...compare(targets, measured, peakOf) };
  } finally {
    for (const server of servers) await server.stop().catch(() => undefined);
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    closeSync(log);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The ratios each row is judged by: req/s and p99 against its plain twin, paired by round. */
function compare(targets: readonly Target[], measured: Record<string, Measured>, peakOf: (server: Pinned) => number) {
  const rps = (r: { requestsPerSecond: number }) => r.requestsPerSecond;
  const p99 = (r: { p99Ms: number }) => r.p99Ms;
  const ratios: Record<string, number> = {};
  const rows = targets.map((t): PinnedRow => {
    const m = measured[t.key]!;
    const twin = t.key.startsWith("auth me") ? "plain me" : t.key.startsWith("auth myItems") ? "plain myItems" : undefined;
    let comparison: string | undefined;
    if (twin && measured[twin]) {
      const [r, p] = [pairedRatio(m, measured[twin], rps), pairedRatio(m, measured[twin], p99)];
      ratios[`${t.key} / ${twin}`] = r;
      ratios[`${t.key} p99 / ${twin} p99`] = p;
      comparison = `${r.toFixed(2)} × plain; p99 ${p.toFixed(2)} × plain's`;
      const fastapi = measured["fastapi me"];
      if (fastapi && t.key.startsWith("auth me")) {
        const f = pairedRatio(m, fastapi, rps);
        ratios[`${t.key} / fastapi me`] = f;
        comparison += `; ${f.toFixed(2)} × FastAPI`;
      }
    }
    return { key: t.key, label: t.label, measured: m, peakRssMiB: peakOf(t.server), comparison };
  });
  return { rows, ratios };
}

/** `node dist/cli/main.js users add bench --password-stdin`, as the README adds a user. */
async function addUser(env: Record<string, string>, cwd: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "dist", "cli", "main.js"),
      "users",
      "add",
      "bench",
      "--email",
      "bench@example.com",
      "--full-name",
      "Bench User",
      "--password-stdin",
    ],
    {
      cwd,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["pipe", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.end(`${PASSWORD}\n`);
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`users add exited with ${String(code)}: ${stderr.trim()}`);
}

/** A token from POST /token (the password grant), as a client gets one. */
async function tokenFrom(url: string): Promise<string> {
  const body = new URLSearchParams({ grant_type: "password", username: "bench", password: PASSWORD });
  const response = await fetch(`${url}/token`, { method: "POST", body });
  const json = (await response.json()) as { access_token?: string };
  if (!response.ok || !json.access_token) throw new Error(`${url}/token answered ${response.status}`);
  return json.access_token;
}

/** One request of the target's load, checked: 2xx and, for GraphQL, data without errors. */
async function expectOk(target: Target): Promise<void> {
  const { request } = target;
  if (request.method === "POST") {
    const token = request.headers.Authorization?.replace(/^Bearer /, "");
    const query = (JSON.parse(request.body!) as { query: string }).query;
    const body = await graphql(target.server.url, query, undefined, token);
    if (!body.data || body.errors) throw new Error(`${target.key}: answered ${JSON.stringify(body).slice(0, 200)}`);
    return;
  }
  const response = await fetch(request.url, { headers: request.headers });
  if (!response.ok) throw new Error(`${target.key}: answered ${response.status}`);
}

/** The first python3 that can import what the FastAPI row needs (PATH's, then Debian's). */
async function fastapiPython(): Promise<string | undefined> {
  for (const python of ["python3", "/usr/bin/python3"]) {
    try {
      await run(python, ["-c", "import fastapi, uvicorn, uvloop, jwt"]);
      return python;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Starts `taskset -a -c SERVER_CORE <argv>` on a free port and waits until `ready`. */
async function startPinned(
  name: string,
  argv: readonly string[],
  env: Record<string, string>,
  cwd: string,
  logFd: number,
  ready: (url: string) => Promise<void>,
): Promise<Pinned> {
  const port = env.PORT ?? String(await freePort());
  const child = spawn("taskset", ["-a", "-c", String(SERVER_CORE), ...argv], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? cwd, ...env, HOST: "127.0.0.1", PORT: port },
    stdio: ["ignore", logFd, logFd],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`${name} exited with code ${String(code)} before answering (its output: servers.log)`);
  });
  await Promise.race([ready(url), exited]);
  exited.catch(() => undefined);
  // taskset execs the program: the child's pid is the server's.
  return { name, url, pid: child.pid!, stop: () => stopChild(child) };
}

async function waitForReady(url: string): Promise<void> {
  await poll(url, async () => (await fetch(`${url}/readyz`)).ok);
}

async function waitForPort(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  await poll(url, async () => {
    const socket = connect(Number(port), hostname);
    try {
      await once(socket, "connect");
      return true;
    } finally {
      socket.destroy();
    }
  });
}

async function poll(url: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer within 60 s`);
    await sleep(100);
  }
}
