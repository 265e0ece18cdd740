/** ATTACKS.md H7 (private database files), H11 (users import of a gigantic line), H12's third part (a malformed DATABASE_URL). */
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb } from "../../src/db/database";
import { cliEnv, runCli } from "../cli/run-cli";
import { DIALECTS, createTestDatabase, uniqueName, type TestDatabase } from "../harness";
import { ONE_VECTOR_PER_FORMAT } from "../legacy-vectors";
import { spawnServer, type SpawnedServer } from "../spawned-server";

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe("H7 private files (sqlite)", () => {
  const dir = mkdtempSync(join(tmpdir(), "graphql-auth-files-"));
  let server: SpawnedServer | undefined;
  let umask: number;
  beforeAll(() => {
    // The usual umask, under which SQLite alone makes 0644 files and mkdir 0755 folders.
    umask = process.umask(0o022);
  });
  afterAll(() => {
    server?.child.kill("SIGKILL");
    process.umask(umask);
    rmSync(dir, { recursive: true, force: true });
  });

  it("H7: the server makes a new data folder 0700 and the database, its -wal and -shm and the development key 0600", async () => {
    const data = join(dir, "server", "data");
    const file = join(data, "graphql-auth.db");
    // SECRET_KEY empty: the development key is made in the same folder.
    server = spawnServer({ DATABASE_URL: `sqlite:${file}`, SECRET_KEY: "" });
    await server.waitForLine((line) => line.msg === "database migrated", "the database migrated");
    // The server is running: SQLite's side files exist now, and go when the last connection closes.
    const modes = Object.fromEntries(
      [data, file, `${file}-wal`, `${file}-shm`, join(data, "secret.key")].map((path) => [path, modeOf(path)]),
    );
    expect(modes).toEqual({
      [data]: "700",
      [file]: "600",
      [`${file}-wal`]: "600",
      [`${file}-shm`]: "600",
      [join(data, "secret.key")]: "600",
    });
    expect(modeOf(join(dir, "server"))).toBe("700");
    expect(server.lines.filter((line) => line.level === 40 && /mode/.test(String(line.msg)))).toEqual([]);
  });

  it("H7: the CLI makes a new database private too", async () => {
    const file = join(dir, "cli", "data", "users.db");
    const result = await runCli(["migrate"], cliEnv(`sqlite:${file}`));
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect([modeOf(join(dir, "cli", "data")), modeOf(file)]).toEqual(["700", "600"]);
    // A second process opens the file as it is, and finds nothing to warn about.
    const handle = createDb(`sqlite:${file}`);
    try {
      await handle.ping();
      expect([modeOf(`${file}-wal`), modeOf(`${file}-shm`)]).toEqual(["600", "600"]);
    } finally {
      await handle.close();
    }
  });

  it("H7: an existing database and folder open to other users are warned about at start, naming path and mode, and still served", async () => {
    const data = join(dir, "loose");
    const file = join(data, "old.db");
    expect((await runCli(["migrate"], cliEnv(`sqlite:${file}`))).code).toBe(0);
    // As an earlier version (or a copy under umask 022) left them.
    chmodSync(file, 0o644);
    chmodSync(data, 0o755);
    const key = join(data, "secret.key");
    writeFileSync(key, `${"ab".repeat(32)}\n`, { mode: 0o644 });

    const cli = await runCli(["users", "list"], cliEnv(`sqlite:${file}`));
    expect(cli.code).toBe(0);
    expect(cli.stderr).toBe(
      `warning: data folder ${data} has mode 755, open to other local users: chmod 700 it\n` +
        `warning: database file ${file} has mode 644, open to other local users: chmod 600 it\n`,
    );

    server?.child.kill("SIGKILL");
    const spawned = spawnServer({ DATABASE_URL: `sqlite:${file}`, SECRET_KEY: "" });
    server = spawned;
    const warning = await spawned.waitForLine((line) => line.file === file, "the warning about the database file");
    expect(warning).toMatchObject({
      level: 40,
      mode: "644",
      msg: `database file ${file} has mode 644, open to other local users: chmod 600 it`,
    });
    expect(spawned.lines.find((line) => line.file === data)).toMatchObject({ level: 40, mode: "755" });
    expect(spawned.lines.find((line) => line.file === key && line.mode !== undefined)).toMatchObject({
      level: 40,
      mode: "644",
      msg: "development key file is readable by other users: chmod 600 it",
    });
    // A warning, not a refusal: the modes are the operator's to change.
    await spawned.waitForLine((line) => line.msg === "database migrated" || /listening on/.test(String(line.msg)), "the server up");
    expect(modeOf(file)).toBe("644");
  });
});

/**
 * 256 MiB: four times the JavaScript heap the CLI is given below, so a reader that holds the line
 * as a string dies, and more than the CLI's whole resident memory may reach, so one that holds it
 * as buffers (outside that heap) is caught by the peak RSS.
 */
const GIANT_LINE_BYTES = 256 * 1024 * 1024;

describe("H11 users import of a gigantic line", () => {
  const dir = mkdtempSync(join(tmpdir(), "graphql-auth-giant-"));
  const file = join(dir, "users.jsonl");
  // Preloaded into the CLI: writes its peak resident set size (KiB) as it exits.
  const reporter = join(dir, "report-rss.js");
  const vector = ONE_VECTOR_PER_FORMAT.find((v) => v.format.startsWith("bcrypt")) ?? ONE_VECTOR_PER_FORMAT[0]!;
  const names = {
    first: uniqueName("first"),
    giant: uniqueName("giant"),
    badUtf8: uniqueName("latin1"),
    crlf: uniqueName("crlf"),
    last: uniqueName("last"),
  };
  beforeAll(() => {
    // VmHWM, the peak of this process's own memory: resourceUsage().maxRSS keeps across fork and
    // exec the RSS of the process that spawned it (a Jest worker of 330 MiB late in a full run).
    writeFileSync(
      reporter,
      `process.on("exit", () => { const fs = require("fs"); ` +
        `fs.writeFileSync(process.env.RSS_REPORT, /VmHWM:\\s+(\\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"))[1]); });\n`,
    );
    const line = (username: string) => JSON.stringify({ username, password_hash: vector.hash });
    const fd = openSync(file, "w");
    try {
      writeSync(fd, `${line(names.first)}\n`);
      // A valid JSON object, only far too long: its pad is written a mebibyte at a time.
      writeSync(fd, `{"username":"${names.giant}","password_hash":"${vector.hash}","full_name":"`);
      const mebibyte = Buffer.alloc(1024 * 1024, "a");
      for (let written = 0; written < GIANT_LINE_BYTES; written += mebibyte.length) writeSync(fd, mebibyte);
      writeSync(fd, `"}\n`);
      // ISO-8859-1 "é" (0xE9) where UTF-8 is due: refused, not imported as U+FFFD.
      const latin1 = Buffer.from(JSON.stringify({ username: names.badUtf8, password_hash: vector.hash, full_name: "Ren\u00e9" }), "latin1");
      writeSync(fd, Buffer.concat([latin1, Buffer.from("\n")]));
      writeSync(fd, `${line(names.crlf)}\r\n\n`);
      // The last line has no line break.
      writeSync(fd, line(names.last));
    } finally {
      closeSync(fd);
    }
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe.each(DIALECTS)("(%s)", (dialect) => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await createTestDatabase(dialect);
    });
    afterAll(async () => {
      await database?.drop();
    });

    it("H11: a 256 MiB line is reported by number and skipped in bounded memory, invalid UTF-8 refused, the rest imported", async () => {
      const rssReport = join(dir, `rss-${dialect}`);
      const env = cliEnv(database.url, { NODE_OPTIONS: `--max-old-space-size=64 --require ${reporter}`, RSS_REPORT: rssReport });
      const result = await runCli(["users", "import", file], env);
      expect(result).toEqual({
        code: 0,
        stdout: "line 2: longer than 65536 bytes (64 KiB)\nline 3: not valid UTF-8\nimported 3, skipped 0, rejected 2\n",
        stderr: "",
      });
      const peakBytes = Number(readFileSync(rssReport, "utf8")) * 1024;
      expect(peakBytes).toBeLessThan(GIANT_LINE_BYTES);
      const handle = createDb(database.url);
      try {
        const rows = await handle.db.selectFrom("users").select("username").where("username", "in", Object.values(names)).execute();
        expect(rows.map((row) => row.username).sort()).toEqual([names.first, names.crlf, names.last].sort());
      } finally {
        await handle.close();
      }
    }, 60_000);
  });
});

describe("H12 a malformed DATABASE_URL", () => {
  const url = "postgres://u:secret-pw@127.0.0.1:notaport/db";
  const line = "Invalid configuration: DATABASE_URL is not a valid postgres:// URL (check the port and the characters to percent-encode)";
  let server: SpawnedServer | undefined;
  afterAll(() => {
    server?.child.kill("SIGKILL");
  });

  it("H12: the server stops at start-up with one line naming DATABASE_URL, exit code 1, for one process and for workers", async () => {
    for (const workers of ["1", "2"]) {
      const spawned = spawnServer({ DATABASE_URL: url, WEB_CONCURRENCY: workers });
      server = spawned;
      let stderr = "";
      spawned.child.stderr!.on("data", (chunk: string) => (stderr += chunk));
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        spawned.exited,
        new Promise((resolve) => (timer = setTimeout(() => resolve("still running after 15 s"), 15_000))),
      ]);
      clearTimeout(timer);
      expect({ workers, code, stderr, stdout: spawned.lines }).toEqual({ workers, code: 1, stderr: `${line}\n`, stdout: [] });
    }
  }, 40_000);

  it("H12: the CLI stops with the same one line and exit code 1", async () => {
    expect(await runCli(["users", "list"], cliEnv(url))).toEqual({ code: 1, stdout: "", stderr: `error: ${line}\n` });
  });
});
