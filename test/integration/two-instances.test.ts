/** Two app instances on one database, as behind a load balancer: whatever one decides, the other honours. */
import { cliEnv, runCli } from "../cli/run-cli";
import { DIALECTS, startTestServer, type TestServer } from "../harness";
import { expectIncorrectCredentials, expectRateLimited, loginPair, logoutMutation } from "../support";
import { postToken, refreshMutation, whoAmI } from "../support";

describe.each(DIALECTS)("two instances on one database (%s)", (dialect) => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    // Strict single use here; sessions.test.ts runs two instances with the reuse interval on.
    const env = { REFRESH_TOKEN_REUSE_INTERVAL: "0" };
    a = await startTestServer({ dialect, env });
    // Same database and the same SECRET_KEY (testConfig), as every instance of a deployment has.
    b = await startTestServer({ databaseUrl: a.database.url, env });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("accepts on B a token issued by A, and the reverse", async () => {
    const { username, password } = await a.createUser();
    const fromA = await a.login(username, password);
    const fromB = await b.login(username, password);
    expect((await b.gql("{ me { username } myItems { owner } }", {}, { token: fromA })).body).toEqual({
      data: { me: { username }, myItems: [{ owner: username }] },
    });
    expect((await a.gql("{ me { username } }", {}, { token: fromB })).body).toEqual({ data: { me: { username } } });
  });

  it("refuses on B a refresh token spent on A, and the reuse ends the login on both", async () => {
    const { username, password } = await a.createUser();
    const first = await loginPair(a, username, password);
    const rotated = await refreshMutation(a, first.refreshToken);
    const second = rotated.body.data!.refresh;
    expect(second.refreshToken).toEqual(expect.any(String));

    const replayed = await refreshMutation(b, first.refreshToken);
    expect(replayed.body.errors?.[0]).toMatchObject({ message: "Invalid refresh token", extensions: { code: "UNAUTHENTICATED" } });
    // Reuse detection ended the whole session, so the token A just issued is dead on both.
    for (const instance of [a, b]) {
      expect((await refreshMutation(instance, second.refreshToken)).body.errors?.[0]).toMatchObject({ message: "Invalid refresh token" });
    }
  });

  it("refuses on B an access token issued before a logout everywhere on A (the revocation cut-off is shared)", async () => {
    const { username, password } = await a.createUser();
    const pair = await loginPair(a, username, password);
    expect(await whoAmI(b, pair.accessToken)).toBe(username);
    expect((await logoutMutation(a, pair.refreshToken, true)).body).toEqual({ data: { logout: true } });
    expect(await whoAmI(b, pair.accessToken)).toEqual({ code: "UNAUTHENTICATED", message: "Could not validate credentials" });
  });

  it("issues exactly one pair when A and B are sent the same refresh token at once", async () => {
    const { username, password } = await a.createUser();
    const { refreshToken } = await loginPair(a, username, password);
    const answers = await Promise.all([refreshMutation(a, refreshToken), refreshMutation(b, refreshToken)]);
    const issued = answers.filter((answer) => answer.body.data?.refresh);
    expect(issued).toHaveLength(1);
    const refused = answers.find((answer) => !answer.body.data?.refresh);
    expect(refused?.body.errors?.[0]).toMatchObject({ message: "Invalid refresh token", extensions: { code: "UNAUTHENTICATED" } });
  });

  it("M1 counts failed logins on A and B together, through either door, up to LOGIN_MAX_FAILURES (5)", async () => {
    const { username, password } = await a.createUser();
    const form = (pw: string) => new URLSearchParams({ grant_type: "password", username, password: pw }).toString();
    const graphqlLogin = (instance: TestServer, pw: string) =>
      instance.gql("mutation L($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }", { u: username, p: pw });

    // Five wrong passwords, spread over both instances and both doors: each is refused as such.
    for (const instance of [a, b, a]) {
      expectIncorrectCredentials(await graphqlLogin(instance, "wrong-password"));
    }
    for (const instance of [b, a])
      expect((await postToken(instance, form("wrong-password"))).body).toMatchObject({ error: "invalid_grant" });

    // The sixth attempt is over the shared budget on either instance, with the right password too.
    expectRateLimited(await graphqlLogin(b, password));
    expectRateLimited(await graphqlLogin(a, password));
    const limitedToken = await postToken(a, form(password));
    expect(limitedToken.status).toBe(429);
    expect(Number(limitedToken.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("refuses on both instances, at the next request, a user an operator disabled with the CLI", async () => {
    const { username, password } = await a.createUser();
    const { accessToken: token, refreshToken } = await loginPair(a, username, password);
    expect((await b.gql("{ me { username } }", {}, { token })).body.errors).toBeUndefined();

    // The CLI is a third process on the same database; neither server is told anything.
    expect(await runCli(["users", "disable", username], cliEnv(a.database.url))).toMatchObject({ code: 0, stderr: "" });

    for (const instance of [a, b]) {
      const response = await instance.gql("{ me { username } status }", {}, { token });
      expect(response.body.errors?.[0]).toMatchObject({ message: "Inactive user", extensions: { code: "FORBIDDEN" }, path: ["me"] });
      // A disabled user's token is still valid for `status` (CONTRACT section 3).
      expect(response.body.data).toBeNull();
      const status = await instance.gql("{ status }", {}, { token });
      expect(status.body).toEqual({ data: { status: "ok" } });
      const login = await instance.gql("mutation L($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }", {
        u: username,
        p: password,
      });
      expect(login.body.errors?.[0]).toMatchObject({ message: "Inactive user", extensions: { code: "FORBIDDEN" } });
      // `users disable` revoked the refresh tokens too.
      expect((await refreshMutation(instance, refreshToken)).body.errors?.[0]).toMatchObject({
        message: "Invalid refresh token",
        extensions: { code: "UNAUTHENTICATED" },
      });
    }
  });
});
