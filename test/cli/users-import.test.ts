/** `graphql-auth users import` as an operator runs it: report lines, summary, exit codes, then logins on the server. */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIALECTS, createTestDatabase, startTestServer, uniqueName, type TestDatabase, type TestServer } from "../harness";
import { ONE_VECTOR_PER_FORMAT } from "../legacy-vectors";
import { CLI_PATH, cliEnv, runCli } from "./run-cli";

describe.each(DIALECTS)("graphql-auth users import (%s)", (dialect) => {
  let database: TestDatabase;
  let server: TestServer;
  let env: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), "graphql-auth-cli-import-"));
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    env = cliEnv(database.url);
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("imports the good lines, reports each bad one, and the users log in with their old passwords", async () => {
    const users = ONE_VECTOR_PER_FORMAT.map((vector) => ({ vector, username: uniqueName("Cli") }));
    const lines = [
      ...users.map(({ vector, username }) => JSON.stringify({ username, password_hash: vector.hash, scopes: "me" })),
      "{oops",
      JSON.stringify({ username: uniqueName("bad"), password_hash: "$2b$31$K/VgpwnOJ.znlRwJ5pPnvu36qwZuyOC41V0Yg7NwusFjlhIO4i4/2" }),
      JSON.stringify({ username: uniqueName("Sso"), password_hash: "!PkizdE5Qe0WpcqeCkcE1gQMLiLrsOc4ioyJHwkSl" }),
    ];
    const file = join(dir, "users.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const n = users.length;

    // Standard error is a pipe here, so there is no progress bar: stdout holds the report alone.
    expect(await runCli(["users", "import", file], env)).toEqual({
      code: 0,
      stdout: `line ${n + 1}: not valid JSON\nline ${n + 2}: password_hash: bcrypt cost out of bounds (refused, never computed)\nimported ${n + 1} (1 without a usable password), skipped 0, rejected 2\n`,
      stderr: "",
    });
    expect(await runCli(["users", "import", file], env)).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(new RegExp(`\\nimported 0, skipped ${n + 1}, rejected 2\\n$`)),
    });

    server = await startTestServer({ databaseUrl: database.url });
    for (const { vector, username } of users) {
      const body = (
        await server.gql("mutation($u: String!, $p: String!) { login(username: $u, password: $p) { scope } }", {
          u: username,
          p: vector.password,
        })
      ).body;
      expect(body).toEqual({ data: { login: { scope: "me" } } });
    }
    expect(await runCli(["users", "import", "--update", file], env)).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(new RegExp(`\\nupdated 0 existing users\\nimported 0, skipped ${n + 1}, rejected 2\\n$`)),
    });
  });

  // `script` (util-linux, present on Debian) gives the CLI a real pseudo-terminal.
  (existsSync("/usr/bin/script") ? it : it.skip)("draws a progress bar on a terminal, then prints the summary", async () => {
    const hash = ONE_VECTOR_PER_FORMAT[0]!.hash;
    const file = join(dir, "tty.jsonl");
    writeFileSync(
      file,
      Array.from({ length: 1200 }, () => `${JSON.stringify({ username: uniqueName("tty"), password_hash: hash })}\n`).join(""),
    );
    const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, CLI_PATH, "users", "import", file].map(quote).join(" ");
    const screen = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
      const child = spawn("script", ["-qefc", command, "/dev/null"], { env, stdio: ["ignore", "pipe", "pipe"] });
      let text = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, text }));
    });
    expect(screen.code).toBe(0);
    expect(screen.text).toMatch(/importing \[[=-]+\] \d+% \| \d+ lines/);
    expect(screen.text).toContain("imported 1200, skipped 0, rejected 0");
  });

  it("imports email_verified (true unless stated), refuses a non-boolean; DEFAULT_SCOPES when absent", async () => {
    const hash = ONE_VECTOR_PER_FORMAT[0]!.hash;
    const [stated, absent] = [uniqueName("st"), uniqueName("ab")];
    const [unverified, broken] = [uniqueName("un"), uniqueName("br")];
    const lines = [
      JSON.stringify({ username: stated, password_hash: hash, email: "s@example.com", email_verified: true }),
      JSON.stringify({ username: absent, password_hash: hash, email: "a@example.com" }),
      JSON.stringify({ username: unverified, password_hash: hash, email: "u@example.com", email_verified: false }),
      JSON.stringify({ username: broken, password_hash: hash, email_verified: "yes" }),
    ];
    const file = join(dir, "verified.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);
    expect(await runCli(["users", "import", file], { ...env, DEFAULT_SCOPES: "me" })).toEqual({
      code: 0,
      stdout: "line 4: email_verified must be true or false\nimported 3, skipped 0, rejected 1\n",
      stderr: "",
    });
    const listing = await runCli(["users", "list", "--json"], env);
    const listed = JSON.parse(listing.stdout) as Array<Record<string, unknown>>;
    const find = (username: string) => listed.find((u) => u.username === username);
    expect(find(stated)).toMatchObject({ emailVerified: true, scopes: ["me"] });
    expect(find(absent)).toMatchObject({ emailVerified: true, scopes: ["me"] });
    expect(find(unverified)).toMatchObject({ emailVerified: false, scopes: ["me"] });
    expect(find(broken)).toBeUndefined();
  });

  it("exits 1 with one line when the file cannot be read", async () => {
    const missing = join(dir, "missing.jsonl");
    expect(await runCli(["users", "import", missing], env)).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: Cannot read ${missing}: no such file\n`,
    });
  });
});
