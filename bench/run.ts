/**
 * `npm run bench`: graphql-auth-server against a plain Apollo Server and raw argon2, in one run.
 * Every server runs in a child process (servers/), and this process only generates load
 * (autocannon) and measures, so that no server shares an event loop with the load. The README's
 * Performance section describes the setup.
 */
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import bcrypt from "bcryptjs";
import jwt from "jsonwebtoken";
import type { AuthServerOptions } from "./servers/auth-server";
import { runExtras } from "./lib/extras";
import { forkServer, memoryOf, SERVER_NODE_FLAGS, type ServerProcess } from "./lib/processes";
import { describeMachine, toMarkdown, type BenchReport } from "./lib/report";
import {
  expectData,
  LOGIN_MUTATION,
  ME_QUERY,
  ITEMS_QUERY,
  login,
  scaling,
  storm,
  throughput,
  type BenchOptions,
  type Servers,
} from "./lib/sections";
import { summarize } from "./lib/summary";
import { pairedRatio, type Measured } from "./lib/rounds";
import { pinnedTable, type PinnedOptions } from "./lib/pinned";
import { pinnedSection, pinnedTargets } from "./lib/pinned-report";

const USAGE =
  "usage: npm run bench -- [--json] [--quick] [--rounds N] [--seconds S] [--connections C] [--login-connections L] [--no-extras] " +
  "[--only pinned|me|storm] [--no-pinned] [--auth-env KEY=VALUE ...] [--compare-node-flags FLAGS]";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      seconds: { type: "string" },
      connections: { type: "string", default: "32" },
      "login-connections": { type: "string", default: "4" },
      "no-extras": { type: "boolean", default: false },
      // `pinned`: only the pinned table; `me`: only the unpinned throughput loads; `storm`: only the storm.
      only: { type: "string" },
      "no-pinned": { type: "boolean", default: false },
      // More environment for the pinned graphql-auth-server rows (e.g. --auth-env METRICS_PORT=9464).
      "auth-env": { type: "string", multiple: true, default: [] },
      // One more pinned `me` row with these node flags (e.g. "--max-semi-space-size=8"), to weigh a V8 setting.
      "compare-node-flags": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (values.only !== undefined && !["pinned", "me", "storm"].includes(values.only))
    throw new Error(`--only takes "pinned", "me" or "storm" (${USAGE})`);
  const quick = values.quick;
  const options: BenchOptions = {
    rounds: positive(values.rounds ?? (quick ? "1" : "3"), "--rounds"),
    seconds: positive(values.seconds ?? (quick ? "3" : "4"), "--seconds"),
    warmupSeconds: quick ? 1 : 2,
    connections: positive(values.connections, "--connections"),
    loginConnections: positive(values["login-connections"], "--login-connections"),
    // The argon2 package's defaults, which are the server's default policy (CONTRACT section 2).
    argon2: { memoryCost: 65536, timeCost: 3, parallelism: 4 },
  };
  // Progress goes to stderr, so that stdout is only the report.
  const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

  const pinnedOptions: PinnedOptions = {
    rounds: options.rounds,
    // wrk counts whole seconds.
    seconds: Math.max(1, Math.round(values.seconds === undefined ? (quick ? 3 : 5) : options.seconds)),
    warmupSeconds: quick ? 1 : 2,
    connections: options.connections,
    authEnv: Object.fromEntries(values["auth-env"].map(keyValue)),
    compareNodeFlags: values["compare-node-flags"]?.split(" ").filter(Boolean),
  };
  const pinned =
    values["no-pinned"] || (values.only !== undefined && values.only !== "pinned") ? undefined : await pinnedTable(pinnedOptions, progress);
  if (values.only === "pinned") {
    const report: BenchReport = {
      machine: describeMachine(),
      settings: { rounds: pinnedOptions.rounds, "seconds a round": pinnedOptions.seconds, connections: pinnedOptions.connections },
      sections: pinned!.available ? [pinnedSection(pinned!, pinnedOptions)] : [],
      ratios: pinned!.ratios,
      memory: {},
      targets: pinnedTargets(pinned!),
      extras: [],
      details: { pinned },
    };
    for (const note of pinned!.notes) progress(note);
    return void process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : toMarkdown(report));
  }

  const dirs = [mkdtempSync(join(tmpdir(), "graphql-auth-bench-")), mkdtempSync(join(tmpdir(), "graphql-auth-bench-"))] as const;
  const logs = dirs.map((dir) => openSync(join(dir, "server.log"), "a"));
  const started: ServerProcess[] = [];
  try {
    const secretKey = randomBytes(32).toString("hex");
    const password = "correct horse battery staple";
    const legacyPassword = "legacy password";
    progress("making the legacy bcrypt cost-12 hash and starting the servers");
    const legacyCount = 400;
    const legacyHash = bcrypt.hashSync(legacyPassword, 12);
    const authOptions = (dir: string, logLevel: string): AuthServerOptions => ({
      dir,
      secretKey,
      logLevel,
      username: "bench",
      password,
      legacyPrefix: "legacy",
      legacyCount,
      legacyHash,
    });
    const plain = await forkServer("plain", "plain-server.js", []);
    started.push(plain);
    const auth = await forkServer("auth", "auth-server.js", [JSON.stringify(authOptions(dirs[0], "info"))], logs[0], SERVER_NODE_FLAGS);
    started.push(auth);
    const authQuiet = await forkServer(
      "auth-quiet",
      "auth-server.js",
      [JSON.stringify(authOptions(dirs[1], "warn"))],
      logs[1],
      SERVER_NODE_FLAGS,
    );
    started.push(authQuiet);
    await sleep(1000);
    const idle = { auth: memoryOf(auth.pid), plain: memoryOf(plain.pid) };

    const token = (await expectData(auth.url, LOGIN_MUTATION, { username: "bench", password })).login.accessToken as string;
    const quietToken = (await expectData(authQuiet.url, LOGIN_MUTATION, { username: "bench", password })).login.accessToken as string;
    // The same user's token as another service holding SECRET_KEY would mint it: no `sid`, so
    // the server judges it without a session (signature, claims, token version).
    const benchUserId = (await expectData(auth.url, ME_QUERY, undefined, token)).me.id as string;
    const noSidToken = mintWithoutSid(secretKey, benchUserId);
    const checks = [
      [plain.url, undefined],
      [auth.url, token],
      [auth.url, noSidToken],
      [authQuiet.url, quietToken],
    ] as const;
    for (const [url, t] of checks) {
      await expectData(url, ME_QUERY, undefined, t);
      await expectData(url, ITEMS_QUERY, undefined, t);
    }
    let legacyUsed = 0;
    const servers: Servers = {
      plain,
      auth,
      authQuiet,
      token,
      noSidToken,
      quietToken,
      password,
      username: "bench",
      // Each legacy login upgrades its hash to argon2id, so each user serves one bcrypt login.
      nextLegacy: () => ({ username: `legacy${legacyUsed++ % legacyCount}`, password: legacyPassword }),
    };
    await expectData(auth.url, LOGIN_MUTATION, servers.nextLegacy());

    if (values.only === "storm") {
      progress("storm: me alone, beside argon2 logins, beside bcrypt logins");
      return void process.stdout.write(stormLines(await storm(options, servers, progress)));
    }
    progress(`throughput: ${options.rounds} rounds of ${options.seconds} s at ${options.connections} connections`);
    const tp = await throughput(options, servers, progress);
    if (values.only === "me") return void process.stdout.write(throughputLines(tp.measured));
    progress(`login: ${options.rounds} rounds of ${options.seconds} s at ${options.loginConnections} at once`);
    const lg = await login(options, servers, progress);
    progress("storm: me alone, beside argon2 logins, beside bcrypt logins");
    const st = await storm(options, servers, progress);
    if (legacyUsed > legacyCount) progress(`note: ${legacyUsed} legacy logins for ${legacyCount} users; later ones verified argon2`);
    const after = { auth: memoryOf(auth.pid), plain: memoryOf(plain.pid) };
    for (const server of started.splice(0)) await server.stop();

    progress("scaling: WEB_CONCURRENCY=1 and 2 through dist/main.js");
    const env = { NODE_ENV: "production", DATABASE_URL: `sqlite:${join(dirs[0], "bench.db")}`, SECRET_KEY: secretKey, LOG_LEVEL: "info" };
    const sc = await scaling(options, env, dirs[0], token, progress);

    const extras = values["no-extras"] || quick ? [] : await runExtras(progress);
    const unpinned = summarize({ options, quick, throughput: tp, login: lg, storm: st, scaling: sc, memory: { idle, after } });
    const report: BenchReport = {
      machine: describeMachine(),
      ...unpinned,
      settings: { ...unpinned.settings, "pinned seconds a round": pinnedOptions.seconds },
      sections: [...(pinned?.available ? [pinnedSection(pinned, pinnedOptions)] : []), ...unpinned.sections],
      ratios: { ...unpinned.ratios, ...(pinned ? prefixed("pinned ", pinned.ratios) : {}) },
      targets: [...(pinned ? pinnedTargets(pinned) : []), ...unpinned.targets],
      details: { ...(unpinned.details as object), pinned },
      extras,
    };
    for (const note of pinned?.notes ?? []) progress(note);
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : toMarkdown(report));
  } finally {
    for (const server of started) await server.stop().catch(() => undefined);
    for (const fd of logs) closeSync(fd);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** An access token for `sub` with every claim ours carry but `sid` (and `ver`), signed with the shared HS256 key. */
function mintWithoutSid(secretKey: string, sub: string): string {
  const payload = { sub, scope: "me items", jti: randomBytes(16).toString("hex") };
  return jwt.sign(payload, secretKey, {
    algorithm: "HS256",
    header: { alg: "HS256", typ: "at+jwt" },
    expiresIn: "1h",
    issuer: "graphql-auth-server",
    audience: "graphql-api",
  });
}

function keyValue(text: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0) throw new Error(`--auth-env takes KEY=VALUE, not ${text} (${USAGE})`);
  return [text.slice(0, at), text.slice(at + 1)];
}

function prefixed(prefix: string, ratios: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(ratios).map(([k, v]) => [`${prefix}${k}`, Number(v.toFixed(3))]));
}

function positive(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} must be a positive number (${USAGE})`);
  return value;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

/** One line per storm load (`me`'s req/s and p99, and its p99 against `me` alone), then the server's highest RSS. */
function stormLines(st: Awaited<ReturnType<typeof storm>>): string {
  const alone = st.measured["me alone"];
  const lines = Object.entries(st.measured).map(
    ([name, m]) =>
      `${name}: ${m.requestsPerSecond.toFixed(0)} req/s, p99 ${m.p99Ms.toFixed(1)} ms${m === alone ? "" : ` (${(m.p99Ms / alone.p99Ms).toFixed(2)} × alone)`}\n`,
  );
  return `${lines.join("")}highest RSS during the storms: ${st.peakRssMiB.toFixed(1)} MiB\n`;
}

/**
 * One line per throughput load: req/s, server CPU per request, and the ratio to its plain twin;
 * then what the session check costs (`me` with a `sid` token against one without, same rounds).
 */
function throughputLines(measured: Record<string, Measured>): string {
  const lines = Object.entries(measured).map(([name, m]) => {
    const plain = measured[name.replace(/^auth (\w+).*$/, "plain $1")];
    const ratio = plain && plain !== m ? ` (${(m.requestsPerSecond / plain.requestsPerSecond).toFixed(2)} × plain)` : "";
    return `${name}: ${m.requestsPerSecond.toFixed(0)} req/s, ${m.cpuUsPerRequest.toFixed(0)} µs CPU/request${ratio}\n`;
  });
  const [withSid, withoutSid] = [measured["auth me"], measured["auth me without sid"]];
  if (withSid && withoutSid) {
    const ratio = pairedRatio(withSid, withoutSid, (r) => r.requestsPerSecond);
    lines.push(`session check: auth me (sid) / auth me without sid = ${ratio.toFixed(2)} ×\n`);
  }
  return lines.join("");
}
