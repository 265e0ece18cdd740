/**
 * CONTRACT section 10: a password on the shipped blocklist is refused wherever one is chosen
 * (changePassword, `users add`, `hash`), case-insensitively, and never judged at login.
 */
import { loginPair, postToken, whoAmI } from "../support";
import { createTestDatabase, DIALECTS, startTestServer, uniqueName, type TestDatabase, type TestServer } from "../harness";
import { cliEnv, runCli } from "../cli/run-cli";

const CHANGE = "mutation ($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }";
const LOGIN = "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";

/** Entries of the list (SecLists' top passwords, 8 characters or more), in the cases people type them. */
const COMMON = ["password1", "Password1", "PASSWORD1", "qwertyuiop", "QWERTYuiop", "iloveyou1", "ILoveYou1", "ｐａｓｓｗｏｒｄ１"];

describe.each(DIALECTS)("the common-password blocklist over GraphQL (%s)", (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dialect, env: { LOGIN_MAX_FAILURES: "1000" } });
  });
  afterAll(async () => server?.close());

  it.each(COMMON)("changePassword to %s: BAD_USER_INPUT Password is too common, and nothing changes", async (newPassword) => {
    const user = await server.createUser();
    const pair = await loginPair(server, user.username, user.password);
    const response = await server.gql(CHANGE, { c: user.password, n: newPassword }, { token: pair.accessToken });
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors?.[0]).toMatchObject({
      message: "Password is too common",
      extensions: { code: "BAD_USER_INPUT" },
    });
    expect(response.body.data ?? null).toBeNull();
    // Refused before anything was revoked: the old token works, the old password logs in, the new one does not.
    expect(await whoAmI(server, pair.accessToken)).toBe(user.username);
    expect((await server.gql(LOGIN, { u: user.username, p: user.password })).body.data?.login.accessToken).toEqual(expect.any(String));
    expect((await server.gql(LOGIN, { u: user.username, p: newPassword })).body.errors?.[0]).toMatchObject({
      message: "Incorrect username or password",
      extensions: { code: "UNAUTHENTICATED" },
    });
  });

  it("changePassword to an uncommon password of the same shape succeeds, and it logs in", async () => {
    const user = await server.createUser();
    const pair = await loginPair(server, user.username, user.password);
    const newPassword = "Password1-and-then-some-Zq7";
    const response = await server.gql(CHANGE, { c: user.password, n: newPassword }, { token: pair.accessToken });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.changePassword.accessToken).toEqual(expect.any(String));
    expect((await server.gql(LOGIN, { u: user.username, p: newPassword })).body.data?.login.accessToken).toEqual(expect.any(String));
  });

  it("an account with a common password still logs in (GraphQL and POST /token) and may change it", async () => {
    // Stored through the store, as an import or an earlier version of the server would have left it.
    const user = await server.createUser({ password: "Password1" });
    const login = await server.gql(LOGIN, { u: user.username, p: "Password1" });
    expect(login.body.errors).toBeUndefined();
    expect(login.body.data?.login.accessToken).toEqual(expect.any(String));
    const token = await postToken(
      server,
      new URLSearchParams({ grant_type: "password", username: user.username, password: "Password1" }).toString(),
    );
    expect(token.status).toBe(200);
    // The current password is checked, never judged: only the new one must be uncommon.
    const changed = await server.gql(
      CHANGE,
      { c: "Password1", n: "a-far-less-common-one-Zq7" },
      { token: login.body.data.login.accessToken },
    );
    expect(changed.body.errors).toBeUndefined();
    expect(changed.body.data?.changePassword.accessToken).toEqual(expect.any(String));
  });
});

describe.each(DIALECTS)("the common-password blocklist in the CLI (%s)", (dialect) => {
  let database: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    env = cliEnv(database.url);
  });
  afterAll(async () => database?.drop());

  const listed = async () =>
    JSON.parse((await runCli(["users", "list", "--json"], env)).stdout).map((u: { username: string }) => u.username) as string[];

  it("users add refuses a common password in any case: one line, exit 1, no account", async () => {
    const names: string[] = [];
    for (const password of ["password1", "PASSWORD1", "Qwertyuiop", "iloveyou1"]) {
      const username = uniqueName("common");
      names.push(username);
      const result = await runCli(["users", "add", username, "--password-stdin"], env, `${password}\n`);
      expect({ password, ...result }).toEqual({
        password,
        code: 1,
        stdout: "",
        stderr: "error: Password is too common\n",
      });
    }
    const existing = await listed();
    for (const name of names) expect(existing).not.toContain(name);
  });

  it("users add takes an uncommon password, which then logs in", async () => {
    const username = uniqueName("uncommon");
    const added = await runCli(["users", "add", username, "--password-stdin"], env, "iloveyou1-said-nobody-Zq7\n");
    expect(added).toMatchObject({ code: 0, stderr: "" });
    expect(await listed()).toContain(username);
    const server = await startTestServer({ dialect, databaseUrl: database.url });
    try {
      expect(await server.login(username, "iloveyou1-said-nobody-Zq7")).toEqual(expect.any(String));
    } finally {
      await server.close();
    }
  });

  it("hash refuses a common password too (its output is for an account) and prints no hash", async () => {
    expect(await runCli(["hash"], env, "Password1\n")).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: Password is too common\n",
    });
    const ok = await runCli(["hash"], env, "Password1-Zq7-and-more\n");
    expect(ok).toMatchObject({ code: 0, stderr: "" });
    expect(ok.stdout).toMatch(/^\$argon2id\$/);
  });
});
