/** ATTACKS H5: one password policy on every door, so no account gets a password it can never log in with. */
import { existsSync } from "node:fs";
import { loginPair, postToken, whoAmI } from "../support";
import { createTestDatabase, DIALECTS, startTestServer, uniqueName, type TestDatabase, type TestServer } from "../harness";
import { cliEnv, runCli, runOnTerminal } from "../cli/run-cli";

const CHANGE = "mutation ($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }";
const LOGIN = "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** New passwords every door must refuse, with the message each gets. */
const UNUSABLE: ReadonlyArray<readonly [string, string, string]> = [
  ["a NUL", "abcd\0efgh", "Password must not contain a NUL character"],
  ["only U+3000", "\u3000".repeat(10), "Password must not be only white space"],
  ["only NBSP and spaces", "\u00a0 \u00a0 \u00a0 \u00a0 ", "Password must not be only white space"],
  // JSON carries a lone surrogate as "\ud800"; it has no UTF-8 form and would be hashed as U+FFFD.
  ["a lone surrogate", "password\ud800", "Password must be valid UTF-8"],
];

/** Invalid UTF-8 on a CLI's standard input: stray bytes, and a surrogate half encoded as if it were a character. */
const INVALID_UTF8: ReadonlyArray<readonly [string, Buffer]> = [
  ["0xFF 0xFE", Buffer.concat([Buffer.from("pass"), Buffer.from([0xff, 0xfe]), Buffer.from("word-long")])],
  ["an encoded surrogate (ED A0 80)", Buffer.concat([Buffer.from("password-"), Buffer.from([0xed, 0xa0, 0x80])])],
  ["a truncated sequence", Buffer.concat([Buffer.from("password-"), Buffer.from([0xe2, 0x82])])],
];

describe.each(DIALECTS)("password policy on every door (%s)", (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dialect, env: { LOGIN_MAX_FAILURES: "1000" } });
  });
  afterAll(async () => server?.close());

  it.each(UNUSABLE)(
    "H5: changePassword to a password with %s: BAD_USER_INPUT saying which rule, and no session is revoked",
    async (_what, newPassword, message) => {
      const user = await server.createUser();
      const pair = await loginPair(server, user.username, user.password);
      const response = await server.gql(CHANGE, { c: user.password, n: newPassword }, { token: pair.accessToken });
      expect(response.body.errors).toHaveLength(1);
      expect(response.body.errors?.[0]).toMatchObject({ message, extensions: { code: "BAD_USER_INPUT" } });
      expect(response.body.data ?? null).toBeNull();
      // Nothing changed: the old token still works and the old password still logs in.
      expect(await whoAmI(server, pair.accessToken)).toBe(user.username);
      expect((await server.gql(LOGIN, { u: user.username, p: user.password })).body.data?.login.accessToken).toEqual(expect.any(String));
    },
  );

  it("H5: login and POST /token: a lone surrogate never matches the U+FFFD its broken encoding would be", async () => {
    // An account whose password really contains U+FFFD (a legal character).
    const user = await server.createUser({ password: "password-\ufffd" });
    const before = server.app.passwords.completedTasks;
    const forged = await server.gql(LOGIN, { u: user.username, p: "password-\ud800" });
    expect(forged.body.errors?.[0]).toMatchObject({ message: "Incorrect username or password", extensions: { code: "UNAUTHENTICATED" } });
    // Refused like any unusable password: one dummy verification, the same cost as a wrong one.
    expect(server.app.passwords.completedTasks - before).toBe(1);
    expect((await server.gql(LOGIN, { u: user.username, p: "password-\ufffd" })).body.data?.login.accessToken).toEqual(expect.any(String));
    // /token is the same use case: what cannot be a password is an invalid_grant there too.
    for (const password of ["pass\0word", "\u3000".repeat(10)]) {
      const response = await postToken(server, form({ grant_type: "password", username: user.username, password }));
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: "invalid_grant", error_description: "Incorrect username or password" });
    }
  });
});

describe.each(DIALECTS)("password policy in the CLI (%s)", (dialect) => {
  let database: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    env = cliEnv(database.url);
  });
  afterAll(async () => database?.drop());

  const listed = async () =>
    JSON.parse((await runCli(["users", "list", "--json"], env)).stdout).map((u: { username: string }) => u.username) as string[];

  it("H5: users add --password-stdin refuses a NUL, only U+3000 and invalid UTF-8 bytes: one line, exit 1, no account", async () => {
    const cases: Array<readonly [string | Buffer, string]> = [
      ["abcd\0efgh\n", "Password must not contain a NUL character"],
      [`${"\u3000".repeat(10)}\n`, "Password must not be only white space"],
      ...INVALID_UTF8.map(([, bytes]) => [bytes, "Password must be valid UTF-8"] as const),
    ];
    const names: string[] = [];
    for (const [input, message] of cases) {
      const username = uniqueName("h5cli");
      names.push(username);
      const result = await runCli(["users", "add", username, "--password-stdin"], env, input);
      expect({ input: String(input), ...result }).toEqual({ input: String(input), code: 1, stdout: "", stderr: `error: ${message}\n` });
    }
    const existing = await listed();
    for (const name of names) expect(existing).not.toContain(name);
  });

  it("H5: hash refuses invalid UTF-8 on standard input, and prints no hash", async () => {
    for (const [, bytes] of INVALID_UTF8) {
      expect(await runCli(["hash"], env, bytes)).toEqual({ code: 1, stdout: "", stderr: "error: Password must be valid UTF-8\n" });
    }
    // Valid UTF-8 beyond ASCII is a password like any other.
    const ok = await runCli(["hash"], env, Buffer.from("pässwörd-€🔑\n", "utf8"));
    expect(ok).toMatchObject({ code: 0, stderr: "" });
    expect(ok.stdout).toMatch(/^\$argon2id\$/);
  });

  // `script` (util-linux) gives the CLI a real pseudo-terminal, as in test/cli/password-safety.test.ts.
  (existsSync("/usr/bin/script") ? it : it.skip)(
    "H5: users add at the terminal prompt refuses invalid UTF-8 typed twice, instead of storing U+FFFD",
    async () => {
      const username = uniqueName("h5tty");
      const typed = INVALID_UTF8[0]![1];
      const result = await runOnTerminal(["users", "add", username], env, [typed, typed]);
      expect(result.screen).toContain("error: Password must be valid UTF-8");
      expect(result.code).toBe(1);
      expect(await listed()).not.toContain(username);
    },
  );
});
