/** CONTRACT section 8's POST /token (ATTACKS T1-T4, R7; T4's shared rate limit: security/lifecycle.test.ts). */
import { capturingLogger, DIALECTS, startTestServer, type TestServer } from "../harness";
import { loginPair, postToken, refreshMutation, whoAmI } from "../support";

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe.each(DIALECTS)("POST /token (%s)", (dialect) => {
  let server: TestServer;
  const logs = capturingLogger("debug");
  beforeAll(async () => {
    // Strict single use: the reuse interval has its own tests (sessions.test.ts).
    server = await startTestServer({ dialect, logger: logs.logger, env: { REFRESH_TOKEN_REUSE_INTERVAL: "0" } });
  });
  afterAll(async () => server?.close());

  const expectError = (response: { status: number; headers: Headers; body: any }, status: number, error: string) => {
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error, error_description: expect.any(String) });
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("pragma")).toBe("no-cache");
  };

  it("T3 password grant: the body an off-the-shelf OAuth2 client sends, answered per RFC 6749 section 5.1", async () => {
    const { username } = await server.createUser({ password: "s3cret pass+&=" });
    // Byte for byte what requests-oauthlib's LegacyApplicationClient (and the FastAPI tutorial's
    // Swagger UI) send: urlencode with `+` for spaces, plus client_id and HTTP Basic, which a
    // public first-party client may add and this endpoint ignores.
    const body = `grant_type=password&username=${encodeURIComponent(username)}&password=s3cret+pass%2B%26%3D&scope=me+items&client_id=`;
    const response = await postToken(server, body, { headers: { authorization: "Basic Y2xpZW50Og==", accept: "application/json" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("pragma")).toBe("no-cache");
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(Object.keys(response.body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "scope", "token_type"]);
    expect(response.body).toMatchObject({ token_type: "bearer", expires_in: 1800, scope: "me items" });
    expect(await whoAmI(server, response.body.access_token)).toBe(username);
    // The refresh token is the same kind the GraphQL door hands out.
    expect((await refreshMutation(server, response.body.refresh_token)).body.data?.refresh.scope).toBe("me items");
  });

  it("T3 password grant with a charset parameter and without scope grants every scope", async () => {
    const { username, password } = await server.createUser();
    const response = await postToken(server, form({ grant_type: "password", username, password }), {
      contentType: "application/x-www-form-urlencoded; charset=UTF-8",
    });
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe("me items");
  });

  it("R7 refresh_token grant rotates; a scope may narrow the access token, never widen it", async () => {
    const { username, password } = await server.createUser();
    const pair = await loginPair(server, username, password);

    const narrowed = await postToken(server, form({ grant_type: "refresh_token", refresh_token: pair.refreshToken, scope: "me" }));
    expect(narrowed.status).toBe(200);
    expect(narrowed.headers.get("cache-control")).toBe("no-store");
    expect(narrowed.body).toMatchObject({ token_type: "bearer", scope: "me" });
    const items = await server.gql("{ myItems { itemId } }", {}, { token: narrowed.body.access_token });
    expect(items.body.errors?.[0]).toMatchObject({ message: "Not enough permissions", extensions: { code: "FORBIDDEN" } });

    // The new refresh token keeps the login's scopes (RFC 6749 section 6).
    const full = await postToken(server, form({ grant_type: "refresh_token", refresh_token: narrowed.body.refresh_token }));
    expect(full.body.scope).toBe("me items");

    const wider = await server.createUser({ scopes: ["me", "items"] });
    const meOnly = await loginPair(server, wider.username, wider.password, ["me"]);
    const widened = await postToken(server, form({ grant_type: "refresh_token", refresh_token: meOnly.refreshToken, scope: "me items" }));
    expectError(widened, 400, "invalid_scope");
    // A refused scope does not spend the token.
    const retried = await postToken(server, form({ grant_type: "refresh_token", refresh_token: meOnly.refreshToken }));
    expect(retried.body.scope).toBe("me");
  });

  it("T2 invalid_grant: wrong password, unknown user, disabled user, spent, unknown refresh token", async () => {
    const { username, password } = await server.createUser();
    const disabled = await server.createUser({ disabled: true });
    const pair = await loginPair(server, username, password);
    await postToken(server, form({ grant_type: "refresh_token", refresh_token: pair.refreshToken }));

    for (const body of [
      form({ grant_type: "password", username, password: `${password}x` }),
      form({ grant_type: "password", username: `${username}-nobody`, password }),
      form({ grant_type: "password", username: disabled.username, password: disabled.password }),
      form({ grant_type: "refresh_token", refresh_token: pair.refreshToken }),
      form({ grant_type: "refresh_token", refresh_token: pair.accessToken }),
    ]) {
      expectError(await postToken(server, body), 400, "invalid_grant");
    }
    const wrong = await postToken(server, form({ grant_type: "password", username, password: "nope-nope" }));
    expect(wrong.body.error_description).toBe("Incorrect username or password");
  });

  it("T2 invalid_scope: a scope the account does not hold", async () => {
    const { username, password } = await server.createUser();
    for (const scope of ["me admin", "admin"]) {
      const response = await postToken(server, form({ grant_type: "password", username, password, scope }));
      expectError(response, 400, "invalid_scope");
      // A fixed text: an OAuth description never carries the client's scope (finding 11).
      expect(response.body.error_description).toBe("Scope not available to this account");
    }
  });

  it("T2 unsupported_grant_type", async () => {
    for (const grant of ["client_credentials", "authorization_code", "PASSWORD"]) {
      expectError(await postToken(server, form({ grant_type: grant, username: "a", password: "b" })), 400, "unsupported_grant_type");
    }
  });

  it("T1 invalid_request: JSON, another content type, no body, missing or repeated parameters", async () => {
    const { username, password } = await server.createUser();
    const cases: Array<[string, { contentType?: string }]> = [
      [JSON.stringify({ grant_type: "password", username, password }), { contentType: "application/json" }],
      [form({ grant_type: "password", username, password }), { contentType: "text/plain" }],
      [form({ grant_type: "password", username, password }), { contentType: "multipart/form-data; boundary=x" }],
      ["", {}],
      [form({ username, password }), {}],
      [form({ grant_type: "password", password }), {}],
      [form({ grant_type: "password", username }), {}],
      [form({ grant_type: "password", username, password: "" }), {}],
      [form({ grant_type: "refresh_token" }), {}],
      [`grant_type=password&username=${username}&username=${username}&password=${password}`, {}],
      [`grant_type=password&username=${username}&username=someone&password=${password}`, {}],
      [`grant_type=password&grant_type=password&username=${username}&password=${password}`, {}],
    ];
    for (const [body, options] of cases) {
      expectError(await postToken(server, body, options), 400, "invalid_request");
    }
    // Unknown parameters are ignored, even repeated (RFC 6749 section 3.2).
    const extra = await postToken(server, `grant_type=password&username=${username}&password=${password}&x=1&x=2`);
    expect(extra.status).toBe(200);
  });

  it("T4 405 with Allow: POST for any other method", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const response = await postToken(server, "", { method });
      expectError(response, 405, "invalid_request");
      expect(response.headers.get("allow")).toBe("POST");
    }
    const head = await fetch(`${server.url}/token`, { method: "HEAD" });
    expect(head.status).toBe(405);
  });

  it("an oversized body is a 4xx with a JSON body", async () => {
    const response = await postToken(server, `grant_type=password&username=a&password=${"x".repeat(100_000)}`);
    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({ error: "invalid_request" });
  });

  it("does not make /graphql accept forms", async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "query=%7B+status+%7D",
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it("logs a client's mistake (a missing parameter) at info, without a stack", async () => {
    const before = logs.lines().length;
    const response = await postToken(server, form({ grant_type: "password", username: "someone" }));
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: "invalid_request", error_description: "Missing parameter: password" });
    const lines = logs
      .lines()
      .slice(before)
      .split("\n")
      .filter((line) => line.includes("Missing parameter"))
      .map((line) => JSON.parse(line) as { level: number; err?: { stack?: unknown } });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe(30);
    expect(lines[0]!.err?.stack).toBeUndefined();
  });

  it("logs no token, password or hash", async () => {
    const { username, password } = await server.createUser();
    const granted = await postToken(server, form({ grant_type: "password", username, password }));
    const rotated = await postToken(server, form({ grant_type: "refresh_token", refresh_token: granted.body.refresh_token }));
    await postToken(server, form({ grant_type: "refresh_token", refresh_token: granted.body.refresh_token }));
    const text = logs.lines();
    expect(text).toContain("refresh token reused");
    for (const secret of [password, granted.body.access_token, granted.body.refresh_token, rotated.body.refresh_token, "$argon2", "eyJ"]) {
      expect(text).not.toContain(secret);
    }
  });
});
