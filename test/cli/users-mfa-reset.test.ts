/** `graphql-auth users mfa-reset <username>` with the real server on one database: the lost-phone path. */
import { Secret, TOTP } from "otpauth";
import { DIALECTS, createTestDatabase, startTestServer, type TestDatabase, type TestServer } from "../harness";
import { cliEnv, runCli } from "./run-cli";

const LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";

describe.each(DIALECTS)("graphql-auth users mfa-reset (%s)", (dialect) => {
  let database: TestDatabase;
  let server: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    env = cliEnv(database.url);
    server = await startTestServer({ databaseUrl: database.url });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it("turns two-factor off so the password alone logs in; says when it was off; unknown user: exit 1", async () => {
    const user = await server.createUser({ prefix: "Phone" });
    const token = await server.login(user.username, user.password);
    const secret = (await server.gql("mutation { enrollTotp { secret } }", {}, { token })).body.data.enrollTotp.secret as string;
    const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() });
    expect(
      (await server.gql("mutation($c: String!) { confirmTotp(code: $c) }", { c: code }, { token })).body.data.confirmTotp,
    ).toHaveLength(10);
    const asked = await server.gql(LOGIN, { u: user.username, p: user.password });
    expect(asked.body.errors?.[0]).toMatchObject({
      message: "Two-factor code required",
      extensions: { code: "MFA_REQUIRED" },
    });

    // Any case of the name, as the other users commands take it.
    const reset = await runCli(["users", "mfa-reset", user.username.toUpperCase()], env);
    expect(reset).toEqual({
      code: 0,
      stdout: `Two-factor authentication turned off for user ${user.username}\n`,
      stderr: "",
    });
    const login = await server.gql(LOGIN, { u: user.username, p: user.password });
    expect(login.body.data?.login.accessToken).toEqual(expect.any(String));
    expect((await server.gql("{ me { mfaEnabled } }", {}, { token })).body).toEqual({
      data: { me: { mfaEnabled: false } },
    });

    const again = await runCli(["users", "mfa-reset", user.username], env);
    expect(again).toEqual({
      code: 0,
      stdout: `Two-factor authentication was not on for user ${user.username}\n`,
      stderr: "",
    });
    const unknown = await runCli(["users", "mfa-reset", "nobody-here"], env);
    expect(unknown).toEqual({ code: 1, stdout: "", stderr: "error: No such user: nobody-here\n" });
  });
});
