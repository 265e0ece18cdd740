/** The plaintext password never reaches the database file, its WAL, or a terminal's screen. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { randomBytes } from "node:crypto";
import SqliteDatabase from "better-sqlite3";
import { createTestDatabase, uniqueName, type TestDatabase } from "../harness";
import { cliEnv, runCli, runOnTerminal } from "./run-cli";

describe("graphql-auth keeps passwords out of the database and off the screen", () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let dbPath: string;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    env = cliEnv(database.url);
    dbPath = database.url.slice("sqlite:".length);
    expect((await runCli(["migrate"], env)).code).toBe(0);
  });
  afterAll(async () => database?.drop());

  /** Every file SQLite keeps for the database: the .db, and its -wal and -shm while they exist. */
  const databaseBytes = () =>
    readdirSync(dirname(dbPath))
      .filter((name) => name.startsWith(basename(dbPath)))
      .map((name) => ({ name, bytes: readFileSync(`${dirname(dbPath)}/${name}`) }));

  it("stores only the argon2id hash: not the password in UTF-8 or UTF-16, in the .db nor the -wal file", async () => {
    // A second connection held open keeps the CLI's writes in the -wal file (the last connection to
    // close would checkpoint and delete it), so the WAL is really searched.
    const holder = new SqliteDatabase(dbPath, { readonly: true });
    try {
      holder.prepare("select count(*) from users").get();
      const username = uniqueName("canary");
      const password = `Canary-${randomBytes(8).toString("hex")}`;
      const result = await runCli(["users", "add", username, "--password-stdin"], env, `${password}\n`);
      expect(result).toMatchObject({ code: 0, stderr: "" });
      expect(result.stdout).not.toContain(password);

      const files = databaseBytes();
      const wal = files.find((f) => f.name.endsWith("-wal"));
      expect(wal).toBeDefined();
      // The search can find things: the new row, with its argon2id hash, is in the WAL.
      expect(wal!.bytes.includes(Buffer.from(username))).toBe(true);
      expect(wal!.bytes.includes(Buffer.from("$argon2id$v=19$m=1024,t=1,p=1$"))).toBe(true);
      for (const file of files) {
        expect({ file: file.name, utf8: file.bytes.includes(Buffer.from(password, "utf8")) }).toEqual({ file: file.name, utf8: false });
        expect({ file: file.name, utf16: file.bytes.includes(Buffer.from(password, "utf16le")) }).toEqual({
          file: file.name,
          utf16: false,
        });
      }
    } finally {
      holder.close();
    }
    // Once checkpointed into the main file, still only the hash.
    const all = Buffer.concat(databaseBytes().map((f) => f.bytes));
    expect(all.includes(Buffer.from("$argon2id$"))).toBe(true);
  });

  // `script` (util-linux, present on Debian) gives the CLI a real pseudo-terminal.
  const haveScript = existsSync("/usr/bin/script");
  (haveScript ? it : it.skip)("prompts twice on a terminal without echoing, and refuses two different entries", async () => {
    const username = uniqueName("tty");
    const password = `Typed-${randomBytes(6).toString("hex")}`;
    const ok = await runOnTerminal(["users", "add", username], env, [password, password]);
    expect(ok.code).toBe(0);
    expect(ok.screen).toContain("Password:");
    expect(ok.screen).toContain("Repeat password:");
    expect(ok.screen).toContain(`Added user ${username}`);
    expect(ok.screen).not.toContain(password);

    const mismatch = await runOnTerminal(["users", "add", uniqueName("tty")], env, [password, `${password}x`]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.screen).toContain("error: The two passwords do not match");
    expect(mismatch.screen).not.toContain(password);

    const listed = await runCli(["users", "list", "--json"], env);
    expect(JSON.parse(listed.stdout).map((u: { username: string }) => u.username)).toContain(username);
  });
});
