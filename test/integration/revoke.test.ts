/** CONTRACT section 13's POST /revoke (RFC 7009): a refresh or an access token ends its whole session, on both dialects. */
import { DIALECTS, startTestServer, type TestServer } from "../harness";
import { decodeJwt, expectInvalidToken, forgeToken, loginPair, postForm, postToken, type Pair } from "../support";

const APP_ORIGIN = "https://app.example.com";
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe.each(DIALECTS)("POST /revoke (%s)", (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    // Strict single use, so a spent refresh token presented here is reuse at once.
    server = await startTestServer({ dialect, env: { REFRESH_TOKEN_REUSE_INTERVAL: "0", CORS_ORIGINS: APP_ORIGIN } });
  });
  afterAll(async () => server?.close());

  const revoke = (body: string, options: { contentType?: string; method?: string } = {}) => postForm(server, "/revoke", body, options);
  const refreshAt = (refreshToken: string) => postToken(server, form({ grant_type: "refresh_token", refresh_token: refreshToken }));
  const me = (token: string) => server.gql("{ me { id } }", {}, { token });
  const eventsOf = (userId: string) =>
    server.app.database.db
      .selectFrom("auth_events")
      .select(["type", "session_id", "client_address", "user_agent"])
      .where("user_id", "=", userId)
      .where("type", "in", ["logout", "session.revoked", "refresh.reuse_detected"])
      .execute();

  /** 200, no body, never cached (RFC 7009 section 2.2). */
  const expectRevoked = (response: { status: number; headers: Headers; body: unknown }) => {
    expect(response.status).toBe(200);
    expect(response.body).toBeUndefined();
    expect(response.headers.get("cache-control")).toBe("no-store");
  };

  /** Both tokens of the pair refused: `me` invalid_token, the refresh grant invalid_grant. */
  const expectSessionEnded = async (pair: Pair) => {
    expectInvalidToken(await me(pair.accessToken));
    const refreshed = await refreshAt(pair.refreshToken);
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe("invalid_grant");
  };

  it("a refresh token ends its session: its access token and itself are refused, another session lives; one logout event", async () => {
    const { id, username, password } = await server.createUser();
    const pair = await loginPair(server, username, password);
    const other = await loginPair(server, username, password);

    const response = await postForm(server, "/revoke", form({ token: pair.refreshToken, token_type_hint: "refresh_token" }), {
      headers: { "user-agent": "revoke-test/1" },
    });
    expectRevoked(response);
    await expectSessionEnded(pair);
    expect((await me(other.accessToken)).body.data).toEqual({ me: { id } });
    expect(await eventsOf(id)).toEqual([
      { type: "logout", session_id: decodeJwt(pair.accessToken).payload.sid, client_address: "127.0.0.1", user_agent: "revoke-test/1" },
    ]);
  });

  it("an access token ends its session too, whatever token_type_hint says; one logout event", async () => {
    const { id, username, password } = await server.createUser();
    const pair = await loginPair(server, username, password);
    const other = await loginPair(server, username, password);

    expectRevoked(await revoke(form({ token: pair.accessToken, token_type_hint: "refresh_token" })));
    await expectSessionEnded(pair);
    expect((await me(other.accessToken)).body.data).toEqual({ me: { id } });
    const events = await eventsOf(id);
    expect(events).toEqual([expect.objectContaining({ type: "logout", session_id: decodeJwt(pair.accessToken).payload.sid })]);

    // Revoking again (either token) is answered the same, and records nothing more.
    expectRevoked(await revoke(form({ token: pair.accessToken })));
    expectRevoked(await revoke(form({ token: pair.refreshToken })));
    expect(await eventsOf(id)).toHaveLength(1);
  });

  it("a refresh token already rotated is reuse: the session ends and refresh.reuse_detected is recorded", async () => {
    const { id, username, password } = await server.createUser();
    const pair = await loginPair(server, username, password);
    const rotated = await refreshAt(pair.refreshToken);
    expect(rotated.status).toBe(200);

    expectRevoked(await revoke(form({ token: pair.refreshToken })));
    expectInvalidToken(await me(rotated.body.access_token));
    expect((await refreshAt(rotated.body.refresh_token)).status).toBe(400);
    expect((await eventsOf(id)).map((event) => event.type)).toEqual(["refresh.reuse_detected"]);
  });

  it("unknown, foreign, expired and malformed tokens: 200 with an empty body, nothing ended", async () => {
    const { id, username, password } = await server.createUser();
    const pair = await loginPair(server, username, password);
    const now = Math.floor(Date.now() / 1000);
    for (const token of [
      "A".repeat(43),
      "not a token at all",
      `${pair.refreshToken}x`,
      // The right claims and session, the wrong key.
      forgeToken(id, now, { key: "another-secret-that-is-at-least-32-bytes", claims: { sid: decodeJwt(pair.accessToken).payload.sid } }),
      // Our key and the user's session, but expired.
      forgeToken(id, now - 4000, { claims: { sid: decodeJwt(pair.accessToken).payload.sid } }),
      "x".repeat(10_000),
    ]) {
      expectRevoked(await revoke(form({ token })));
    }
    expect((await me(pair.accessToken)).body.data).toEqual({ me: { id } });
    expect((await refreshAt(pair.refreshToken)).status).toBe(200);
    expect(await eventsOf(id)).toEqual([]);
  });

  it("an access token without sid (minted elsewhere with the shared key) belongs to no session: 200, nothing ended", async () => {
    const { id, username, password } = await server.createUser();
    const pair = await loginPair(server, username, password);
    const foreign = forgeToken(id, Math.floor(Date.now() / 1000) + 1);
    expectRevoked(await revoke(form({ token: foreign })));
    expect((await me(foreign)).body.data).toEqual({ me: { id } });
    expect((await me(pair.accessToken)).body.data).toEqual({ me: { id } });
    expect(await eventsOf(id)).toEqual([]);
  });

  it("400 invalid_request without token, with an empty or repeated one, or a body that is not a form; 405 for GET", async () => {
    for (const body of ["", "token=", "token_type_hint=access_token", "token=a&token=b"]) {
      const response = await revoke(body);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: "invalid_request", error_description: expect.any(String) });
      expect(response.headers.get("cache-control")).toBe("no-store");
    }
    const json = await revoke(JSON.stringify({ token: "x" }), { contentType: "application/json" });
    expect(json.status).toBe(400);
    expect(json.body.error).toBe("invalid_request");

    const get = await revoke("", { method: "GET" });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect(get.body.error).toBe("invalid_request");
  });

  it("CORS (CONTRACT section 15): a browser app on an allowed origin may call /revoke and /introspect, another may not", async () => {
    for (const path of ["/revoke", "/introspect"]) {
      const preflight = await fetch(`${server.url}${path}`, {
        method: "OPTIONS",
        headers: { origin: APP_ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe(APP_ORIGIN);
      expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
      // The page reads the endpoint's own answer: 200 from /revoke, the 401 challenge from /introspect.
      const call = await postForm(server, path, form({ token: "unknown" }), { headers: { origin: APP_ORIGIN } });
      expect(call.status).toBe(path === "/revoke" ? 200 : 401);
      expect(call.headers.get("access-control-allow-origin")).toBe(APP_ORIGIN);
      if (path === "/introspect") expect(call.headers.get("access-control-expose-headers")).toContain("www-authenticate");
      const foreign = await postForm(server, path, form({ token: "unknown" }), { headers: { origin: "https://evil.example" } });
      expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    }
  });
});
