/** The CLI and the real server on one database: a CLI user logs in, and `users disable` stops its token at once. */
import { DIALECTS, createTestDatabase, startTestServer, uniqueName, type TestDatabase, type TestServer } from "../harness";
import { loginPair, refreshMutation } from "../support";
import { expectIncorrectCredentials, expectInvalidToken, expectMe, expectRateLimited } from "../support";
import { cliEnv, runCli } from "./run-cli";

describe.each(DIALECTS)("graphql-auth users with the server (%s)", (dialect) => {
  let database: TestDatabase;
  let server: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    env = cliEnv(database.url);
    // The CLI migrates an empty database itself; the server then finds the schema current.
    expect(await runCli(["migrate"], env)).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^Applied migration 2026-11-29-01-users\n(Applied migration [\w-]+\n)*$/),
      stderr: "",
    });
    server = await startTestServer({ databaseUrl: database.url });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  const ME = "{ me { username email fullName disabled scopes } }";

  it("a user added by the CLI logs in; disable gives its token Inactive user, enable restores it", async () => {
    const username = uniqueName("Cli");
    const password = "typed into the pipe";
    const added = await runCli(
      ["users", "add", username, "--email", "cli@example.com", "--full-name", "Cli User", "--password-stdin"],
      env,
      `${password}\n`,
    );
    expect(added).toMatchObject({ code: 0, stderr: "" });

    // One trailing newline was removed, nothing else.
    const wrong = await server.gql("mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }", {
      u: username,
      p: `${password}\n`,
    });
    expect(wrong.body.errors?.[0]).toMatchObject({ message: "Incorrect username or password", extensions: { code: "UNAUTHENTICATED" } });

    const token = await server.login(username.toLowerCase(), password);
    const me = await server.gql(ME, {}, { token });
    expect(me.body).toEqual({
      data: { me: { username, email: "cli@example.com", fullName: "Cli User", disabled: false, scopes: ["me", "items"] } },
    });

    expect(await runCli(["users", "disable", username], env)).toEqual({ code: 0, stdout: `Disabled user ${username}\n`, stderr: "" });
    const refused = await server.gql(ME, {}, { token });
    expect(refused.body.data).toBeNull();
    expect(refused.body.errors).toHaveLength(1);
    expect(refused.body.errors?.[0]).toMatchObject({ message: "Inactive user", extensions: { code: "FORBIDDEN" } });
    // status needs a valid token only, disabled users too.
    expect((await server.gql("{ status }", {}, { token })).body).toEqual({ data: { status: "ok" } });

    expect((await runCli(["users", "enable", username], env)).code).toBe(0);
    expect((await server.gql(ME, {}, { token })).body.data?.me).toMatchObject({ username, disabled: false });
  });

  it("users delete: the user's tokens fail validation at once, its refresh token is dead", async () => {
    const made = await server.createUser({ prefix: "Del" });
    const pair = await loginPair(server, made.username, made.password);
    expectMe(await server.gql("{ me { id } }", {}, { token: pair.accessToken }), made.id);

    expect(await runCli(["users", "delete", made.username], env)).toEqual({
      code: 0,
      stdout: `Deleted user ${made.username}\n`,
      stderr: "",
    });
    expectInvalidToken(await server.gql("{ me { id } }", {}, { token: pair.accessToken }));
    expect((await refreshMutation(server, pair.refreshToken)).body.errors?.[0]).toMatchObject({
      message: "Invalid refresh token",
      extensions: { code: "UNAUTHENTICATED" },
    });
  });

  it("users unlock: after a lockout, the right password logs in at once", async () => {
    const made = await server.createUser({ prefix: "Lock" });
    const attempt = (password: string) =>
      server.gql("mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }", {
        u: made.username,
        p: password,
      });
    for (let i = 0; i < 5; i++) expectIncorrectCredentials(await attempt("not the password"));
    expectRateLimited(await attempt(made.password));

    expect(await runCli(["users", "unlock", made.username.toUpperCase()], env)).toEqual({
      code: 0,
      stdout: `Unlocked user ${made.username}\n`,
      stderr: "",
    });
    expect((await attempt(made.password)).body.data?.login.accessToken).toEqual(expect.any(String));
  });

  it("lists the users the server sees, and refuses a duplicate of one the server created", async () => {
    const made = await server.createUser({ prefix: "Srv" });
    const listed = await runCli(["users", "list", "--json"], env);
    expect(listed).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(listed.stdout)).toContainEqual(expect.objectContaining({ id: made.id, username: made.username }));

    const duplicate = await runCli(["users", "add", made.username.toUpperCase(), "--password-stdin"], env, "another-password\n");
    expect(duplicate).toEqual({ code: 1, stdout: "", stderr: `error: Username already exists: ${made.username.toUpperCase()}\n` });
  });
});
