/** Login and what a token grants over its life: scopes, stale headers, disabled users, lost scopes. */
import { DIALECTS, TEST_SECRET, capturingLogger, startTestServer, type TestServer } from "../harness";
import { decodeJwt, forgeToken, movableClock } from "../support";

const LOGIN =
  "mutation Login($u: String!, $p: String!, $s: [String!]) { login(username: $u, password: $p, scopes: $s) { accessToken tokenType expiresIn scope } }";

describe.each(DIALECTS)("login and the life of a token (%s)", (dialect) => {
  const clock = movableClock(Date.UTC(2031, 4, 1, 12, 0, 0));
  const logs = capturingLogger("debug");
  const secrets: string[] = [];
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ dialect, clock, logger: logs.logger });
  });
  afterAll(async () => server?.close());

  async function newUser(options: { scopes?: string[] } = {}) {
    const user = await server.createUser(options);
    secrets.push(user.password);
    return user;
  }

  async function login(username: string, password: string, scopes?: string[] | null, headers?: Record<string, string>) {
    const response = await server.gql(LOGIN, { u: username, p: password, s: scopes }, { headers });
    const token = response.body.data?.login?.accessToken as string | undefined;
    if (token) secrets.push(token);
    return response;
  }

  it("answers the OAuth2 shape: a bearer token for 30 minutes with the granted scopes", async () => {
    const user = await newUser();
    const response = await login(user.username, user.password);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.login).toEqual({ accessToken: expect.any(String), tokenType: "bearer", expiresIn: 1800, scope: "me items" });
    const claims = decodeJwt(response.body.data.login.accessToken).payload;
    expect(claims).toMatchObject({ sub: user.id, scope: "me items", iss: "graphql-auth-server", aud: "graphql-api" });
    expect(claims.exp).toBe((claims.iat as number) + 1800);
  });

  it.each([
    ["an expired token of the same user", "stale"],
    ["a garbage bearer token", "Bearer not.a.jwt"],
    ["a bearer scheme with no token", "Bearer"],
    ["Basic credentials", "Basic am9obmRvZTpzZWNyZXQ="],
  ])("logs in whatever the Authorization header carries: %s", async (_label, header) => {
    const user = await newUser();
    const nowSeconds = Math.floor(clock.now() / 1000);
    const authorization =
      header === "stale"
        ? `Bearer ${forgeToken(user.id, nowSeconds, { claims: { iat: nowSeconds - 7200, exp: nowSeconds - 3600 } })}`
        : header;
    const response = await login(user.username, user.password, undefined, { authorization });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.login.scope).toBe("me items");
    expect(response.headers.get("www-authenticate")).toBeNull();
  });

  describe("scopes requested at login", () => {
    let user: { id: string; username: string; password: string };
    beforeAll(async () => {
      user = await newUser({ scopes: ["me", "items"] });
    });

    it.each([
      ["omitted", undefined, "me items"],
      ["null", null, "me items"],
      ["a subset", ["items"], "items"],
      ["all, in another order", ["items", "me"], "items me"],
      ['["me items"] as one string, split on white space', ["me items"], "me items"],
      ["with a duplicate", ["me", "me"], "me"],
      ["[] (nothing)", [], ""],
    ])("grants exactly what was asked when scopes is %s", async (_label, scopes, granted) => {
      const response = await login(user.username, user.password, scopes);
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data.login.scope).toBe(granted);
      expect(decodeJwt(response.body.data.login.accessToken).payload.scope).toBe(granted);
    });

    it("refuses a scope the account does not hold, naming it, and issues nothing", async () => {
      const response = await login(user.username, user.password, ["items", "admin"]);
      expect(response.body.data).toBeNull();
      expect(response.body.errors).toEqual([
        expect.objectContaining({ extensions: { code: "BAD_USER_INPUT" }, message: expect.stringContaining("admin") }),
      ]);
    });

    it("lets a token from scopes: [] use nothing but status", async () => {
      const response = await login(user.username, user.password, []);
      const token = response.body.data.login.accessToken as string;
      const status = await server.gql("{ status }", {}, { token });
      expect(status.body).toEqual({ data: { status: "ok" } });
      const me = await server.gql("{ me { id } }", {}, { token });
      expect(me.body.errors).toEqual([expect.objectContaining({ message: "Not enough permissions", extensions: { code: "FORBIDDEN" } })]);
    });
  });

  it("stops honouring a scope the account lost after the token was issued", async () => {
    const user = await newUser();
    const token = (await login(user.username, user.password)).body.data.login.accessToken as string;
    await server.app.database.db.updateTable("users").set({ scopes: "me" }).where("id", "=", user.id).execute();

    const items = await server.gql("{ myItems { itemId } }", {}, { token });
    expect(items.body.errors).toEqual([expect.objectContaining({ message: "Not enough permissions", extensions: { code: "FORBIDDEN" } })]);
    expect(items.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", scope="me items"');
    const me = await server.gql("{ me { id } }", {}, { token });
    expect(me.body).toEqual({ data: { me: { id: user.id } } });
  });

  it("J17 answers a user disabled while holding a token with Inactive user on me and myItems, and ok on status", async () => {
    const user = await newUser();
    const token = (await login(user.username, user.password)).body.data.login.accessToken as string;
    await server.app.users.setDisabled(user.username, true);

    for (const query of ["{ me { id } }", "{ myItems { itemId } }"]) {
      const response = await server.gql(query, {}, { token });
      expect(response.body).toEqual({
        data: null,
        errors: [expect.objectContaining({ message: "Inactive user", extensions: { code: "FORBIDDEN" } })],
      });
    }
    expect((await server.gql("{ status }", {}, { token })).body).toEqual({ data: { status: "ok" } });

    // Enabled again, the same token works on the very next request.
    await server.app.users.setDisabled(user.username, false);
    expect((await server.gql("{ me { id } }", {}, { token })).body).toEqual({ data: { me: { id: user.id } } });
  });

  it("G10: { status me { id } } without scope me puts the error on me, and non-null me nulls the whole data", async () => {
    const user = await newUser();
    const token = (await login(user.username, user.password, ["items"])).body.data.login.accessToken as string;
    const response = await server.gql("{ status me { id } }", {}, { token });
    // status resolved to "ok", but me is `User!`: its null propagates to the root, so data is null
    // and the one error names the path ["me"].
    expect(response.body).toEqual({
      data: null,
      errors: [expect.objectContaining({ message: "Not enough permissions", path: ["me"], extensions: { code: "FORBIDDEN" } })],
    });
    expect(response.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", scope="me"');
  });

  it("never writes a password, token or hash to the log", () => {
    const text = logs.lines();
    expect(text.length).toBeGreaterThan(0);
    expect(secrets.length).toBeGreaterThan(10);
    for (const secret of [...secrets, TEST_SECRET]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/\$argon2|\$2[aby]\$|eyJ/);
  });
});
