/** `graphql-auth hash`, `secret` and `migrate`, configuration errors, unexpected errors, and the bin file itself. */
import { execFile } from "node:child_process";
import { accessSync, constants, readFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import * as argon2 from "argon2";
import { createTestDatabase, type TestDatabase } from "../harness";
import { CLI_PATH, cliEnv, runCli } from "./run-cli";

describe("graphql-auth hash, secret, migrate", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
  });
  afterAll(async () => database?.drop());

  it("migrate applies the schema once, then says it is current", async () => {
    const env = cliEnv(database.url);
    expect(await runCli(["migrate"], env)).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^Applied migration 2026-11-29-01-users\n(Applied migration [\w-]+\n)*$/),
      stderr: "",
    });
    expect(await runCli(["migrate"], env)).toEqual({ code: 0, stdout: "The database schema is current; nothing to apply.\n", stderr: "" });
  });

  it("hash prints a standard argon2id PHC string of stdin, under the configured policy", async () => {
    const result = await runCli(["hash"], cliEnv(database.url, { ARGON2_MEMORY_KIB: "2048", ARGON2_TIME_COST: "2" }), "hash-me-please\n");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const phc = result.stdout.trimEnd();
    expect(result.stdout).toBe(`${phc}\n`);
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=2048,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    // Another implementation reads it, and the trailing newline was not hashed.
    expect(await argon2.verify(phc, "hash-me-please")).toBe(true);
    expect(await argon2.verify(phc, "hash-me-please\n")).toBe(false);
  });

  it("hash refuses a password outside the policy", async () => {
    expect(await runCli(["hash"], cliEnv(database.url), "short\n")).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: Password must be at least 8 characters\n",
    });
  });

  it("secret prints 32 fresh random bytes as hex, and needs no configuration", async () => {
    // An invalid SECRET_KEY would stop every other command; secret is how an operator fixes it.
    const env = cliEnv(database.url, { SECRET_KEY: "too-short" });
    const first = await runCli(["secret"], env);
    const second = await runCli(["secret"], env);
    expect(first).toEqual({ code: 0, stdout: expect.stringMatching(/^[0-9a-f]{64}\n$/), stderr: "" });
    expect(second.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(second.stdout).not.toBe(first.stdout);
  });

  it("a bad configuration is exit 1 and the one line naming the key, never a stack trace", async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [
        { SECRET_KEY: "too-short" },
        "error: Invalid configuration: SECRET_KEY must be at least 32 bytes (it has 9); make one with `graphql-auth secret`\n",
      ],
      [
        { DATABASE_URL: "mysql://x" },
        "error: Invalid configuration: DATABASE_URL must be sqlite:<path>, sqlite::memory: or postgres://user:pass@host:port/db\n",
      ],
      [{ ARGON2_TIME_COST: "0" }, "error: Invalid configuration: ARGON2_TIME_COST must be at least 1\n"],
    ];
    for (const [extra, stderr] of cases) {
      expect(await runCli(["users", "list"], cliEnv(database.url, extra))).toEqual({ code: 1, stdout: "", stderr });
    }
  });

  it("an unexpected error is one line and exit 1; the stack trace only at LOG_LEVEL=debug", async () => {
    // A database path under a regular file cannot be created.
    const dir = mkdtempSync(join(tmpdir(), "graphql-auth-cli-"));
    writeFileSync(join(dir, "file"), "");
    const url = `sqlite:${join(dir, "file", "sub", "x.db")}`;

    const quiet = await runCli(["users", "list"], cliEnv(url));
    expect(quiet.code).toBe(1);
    expect(quiet.stdout).toBe("");
    expect(quiet.stderr).toMatch(/^error: ENOTDIR: not a directory, mkdir '.*' \(LOG_LEVEL=debug shows the stack trace\)\n$/);

    const verbose = await runCli(["users", "list"], cliEnv(url, { LOG_LEVEL: "debug" }));
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/^error: ENOTDIR: not a directory, mkdir '.*'\nError: ENOTDIR[^\n]*\n\s+at /);
  });

  it("with no command, prints the usage on stderr and exits 1; --help exits 0", async () => {
    const bare = await runCli([], cliEnv(database.url));
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(/^Usage: graphql-auth /);
    for (const command of ["users", "hash", "secret", "migrate"]) expect(bare.stderr).toMatch(new RegExp(`^  ${command} `, "m"));
    const help = await runCli(["users", "--help"], cliEnv(database.url));
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: graphql-auth users /);
  });

  it("package.json bin is the built entry point, executable, with a node shebang", async () => {
    const pkg = JSON.parse(readFileSync(resolve(__dirname, "..", "..", "package.json"), "utf8")) as { bin: Record<string, string> };
    expect(resolve(__dirname, "..", "..", pkg.bin["graphql-auth"]!)).toBe(CLI_PATH);
    expect(readFileSync(CLI_PATH, "utf8").split("\n", 1)[0]).toBe("#!/usr/bin/env node");
    accessSync(CLI_PATH, constants.X_OK);
    // Run as a program, not through node, as npx and a shell run it.
    const { stdout } = await promisify(execFile)(CLI_PATH, ["secret"], { env: { PATH: process.env.PATH ?? "" } });
    expect(stdout).toMatch(/^[0-9a-f]{64}\n$/);
  });
});
