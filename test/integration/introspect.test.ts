/**
 * CONTRACT section 13's POST /introspect (RFC 7662): active only for what every other door would
 * accept now, inactive after each way a token dies; the caller needs a bearer with scope introspect.
 */
import { addUser } from "../../src/users/add-user";
import { deleteUser } from "../../src/users/delete-user";
import { setUserDisabled } from "../../src/auth/user-revocation";
import { capturingLogger, DIALECTS, startTestServer, type TestServer, type TestUser } from "../harness";
import { DAY_MS, decodeJwt, forgeToken, loginPair, logoutMutation, movableClock, postForm, postToken, refreshMutation } from "../support";

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const INACTIVE = { active: false };

describe.each(DIALECTS)("POST /introspect (%s)", (dialect) => {
  const clock = movableClock(Date.UTC(2031, 4, 1, 12, 0, 0));
  const now = () => Math.floor(clock.now() / 1000);
  let server: TestServer;
  const logs = capturingLogger("debug");
  /** Every token this suite introspected, to search the logs for. */
  const seen = new Set<string>();
  /** The resource server's account, made as `users add rs --scopes "introspect"` makes it. */
  const rs = { username: `rs_${dialect}`, password: "resource server passphrase" };
  beforeAll(async () => {
    server = await startTestServer({ dialect, clock, logger: logs.logger });
    const { users, passwords, audit } = server.app;
    const added = await addUser(
      { users, passwords, audit },
      { username: rs.username, scopes: "introspect", password: async () => rs.password },
    );
    expect(added.scopes).toEqual(["introspect"]);
  });
  afterAll(async () => server?.close());

  /** A fresh bearer for the resource server: the clock moves in some tests, and its tokens expire too. */
  const callerToken = () => server.login(rs.username, rs.password);
  const introspect = async (token: string, bearer?: string) => {
    const caller = bearer ?? (await callerToken());
    seen.add(token).add(caller);
    return postForm(server, "/introspect", form({ token }), { bearer: caller });
  };
  const gql = (query: string, token: string, variables: Record<string, unknown> = {}) => server.gql(query, variables, { token });

  /** Introspects both tokens of a pair at once. */
  const both = async (pair: { accessToken: string; refreshToken: string }) => {
    const bearer = await callerToken();
    return [(await introspect(pair.accessToken, bearer)).body, (await introspect(pair.refreshToken, bearer)).body];
  };

  const newUserPair = async (): Promise<[TestUser, Awaited<ReturnType<typeof loginPair>>]> => {
    const user = await server.createUser();
    return [user, await loginPair(server, user.username, user.password)];
  };

  it("a live access token: active, with sub, username, scope, exp, iat, iss, aud, sid and jti; never cached", async () => {
    const [user, pair] = await newUserPair();
    const claims = decodeJwt(pair.accessToken).payload;
    const response = await introspect(pair.accessToken);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.body).toEqual({
      active: true,
      token_type: "access_token",
      sub: user.id,
      username: user.username,
      scope: "me items",
      exp: now() + 1800,
      iat: now(),
      iss: "graphql-auth-server",
      aud: "graphql-api",
      sid: claims.sid,
      jti: claims.jti,
    });
  });

  it("a live refresh token: active until its session's end; a rotated one only within the reuse interval", async () => {
    const [user, pair] = await newUserPair();
    const sid = decodeJwt(pair.accessToken).payload.sid;
    const loginAt = now();
    expect((await introspect(pair.refreshToken)).body).toEqual({
      active: true,
      token_type: "refresh_token",
      sub: user.id,
      username: user.username,
      scope: "me items",
      exp: loginAt + 14 * 24 * 3600,
      iat: loginAt,
      iss: "graphql-auth-server",
      aud: "graphql-api",
      sid,
    });

    clock.advance(2000);
    const rotated = (await refreshMutation(server, pair.refreshToken)).body.data!.refresh;
    // Within REFRESH_TOKEN_REUSE_INTERVAL (10 s) the spent token still answers its successor at /token, so it is active.
    expect((await introspect(pair.refreshToken)).body).toMatchObject({ active: true, iat: loginAt, sid });
    expect((await introspect(rotated.refreshToken)).body).toMatchObject({ active: true, iat: now(), exp: loginAt + 14 * 24 * 3600, sid });
    clock.advance(11_000);
    expect((await introspect(pair.refreshToken)).body).toEqual(INACTIVE);
    expect((await introspect(rotated.refreshToken)).body).toMatchObject({ active: true });
  });

  it("a resource server honours a logout within one request by introspecting", async () => {
    const [, pair] = await newUserPair();
    const bearer = await callerToken();
    expect((await introspect(pair.accessToken, bearer)).body.active).toBe(true);
    expect((await logoutMutation(server, pair.refreshToken)).body).toEqual({ data: { logout: true } });
    expect((await introspect(pair.accessToken, bearer)).body).toEqual(INACTIVE);
  });

  it("inactive after logout, revokeSession and POST /revoke: both tokens of the ended session", async () => {
    const [user, loggedOut] = await newUserPair();
    await logoutMutation(server, loggedOut.refreshToken);
    expect(await both(loggedOut)).toEqual([INACTIVE, INACTIVE]);

    const revoked = await loginPair(server, user.username, user.password);
    const keeper = await loginPair(server, user.username, user.password);
    const id = decodeJwt(revoked.accessToken).payload.sid;
    expect((await gql("mutation($id: ID!) { revokeSession(id: $id) }", keeper.accessToken, { id })).body).toEqual({
      data: { revokeSession: true },
    });
    expect(await both(revoked)).toEqual([INACTIVE, INACTIVE]);

    const viaRevoke = await loginPair(server, user.username, user.password);
    expect((await postForm(server, "/revoke", form({ token: viaRevoke.accessToken }))).status).toBe(200);
    expect(await both(viaRevoke)).toEqual([INACTIVE, INACTIVE]);

    // The session that ended none of these lives on.
    expect((await both(keeper)).map((answer) => answer.active)).toEqual([true, true]);
  });

  it("inactive after logout everywhere and after a password change: every earlier token of the user", async () => {
    const [user, first] = await newUserPair();
    const second = await loginPair(server, user.username, user.password);
    await logoutMutation(server, first.refreshToken, true);
    expect([...(await both(first)), ...(await both(second))]).toEqual([INACTIVE, INACTIVE, INACTIVE, INACTIVE]);

    // A later second of the clock: the token version is in milliseconds, and the old tokens' iat in seconds.
    clock.advance(1000);
    const before = await loginPair(server, user.username, user.password);
    const changed = await gql(
      "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken refreshToken } }",
      before.accessToken,
      { c: user.password, n: "an entirely new passphrase" },
    );
    const fresh = changed.body.data!.changePassword;
    expect(await both(before)).toEqual([INACTIVE, INACTIVE]);
    expect((await both(fresh)).map((answer) => answer.active)).toEqual([true, true]);
  });

  it("inactive for a disabled user (even before its access token expires) and for a deleted one", async () => {
    const [disabled, disabledPair] = await newUserPair();
    await setUserDisabled(server.app.auth, disabled.username, true);
    expect(await both(disabledPair)).toEqual([INACTIVE, INACTIVE]);
    // `status` still answers the disabled user's token (CONTRACT section 9): it is judged, not dead.
    expect((await gql("{ status }", disabledPair.accessToken)).body).toEqual({ data: { status: "ok" } });

    const [deleted, deletedPair] = await newUserPair();
    await deleteUser({ users: server.app.users, audit: server.app.audit }, deleted.username);
    expect(await both(deletedPair)).toEqual([INACTIVE, INACTIVE]);
  });

  it("inactive once expired: an access token after its 30 minutes, a refresh token after its session's 14 days", async () => {
    const [, pair] = await newUserPair();
    clock.advance(1800 * 1000 + 6000);
    expect((await introspect(pair.accessToken)).body).toEqual(INACTIVE);
    expect((await introspect(pair.refreshToken)).body).toMatchObject({ active: true });
    clock.advance(14 * DAY_MS);
    expect((await introspect(pair.refreshToken)).body).toEqual(INACTIVE);
  });

  it("inactive for malformed, forged, unknown and foreign-audience tokens", async () => {
    const [user] = await newUserPair();
    for (const token of [
      "garbage",
      "A".repeat(43),
      "a.b.c",
      forgeToken(user.id, now(), { key: "another-secret-that-is-at-least-32-bytes" }),
      forgeToken(user.id, now(), { claims: { aud: "someone-else" } }),
      forgeToken(user.id, now(), { header: { typ: "JWT" } }),
    ]) {
      expect((await introspect(token)).body).toEqual(INACTIVE);
    }
  });

  it("401 with WWW-Authenticate for a caller without a bearer, with a bad one, without scope introspect, or disabled", async () => {
    const [, pair] = await newUserPair();
    const anonymous = await postForm(server, "/introspect", form({ token: pair.accessToken }));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe("Bearer");
    expect(anonymous.body).toEqual({ error: "invalid_client", error_description: "Not authenticated" });
    expect(anonymous.headers.get("cache-control")).toBe("no-store");

    const bad = await introspect(pair.accessToken, "not-a-token");
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    expect(bad.body).toEqual({ error: "invalid_token", error_description: "Could not validate credentials" });

    // A user's own live token, without the scope: 401 too (RFC 7662 section 2.3), naming the scope.
    const unscoped = await introspect(pair.accessToken, pair.accessToken);
    expect(unscoped.status).toBe(401);
    expect(unscoped.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", scope="introspect"');
    expect(unscoped.body).toEqual({ error: "insufficient_scope", error_description: "Not enough permissions" });

    const lapsed = await server.createUser({ scopes: ["introspect"] });
    const lapsedToken = await server.login(lapsed.username, lapsed.password);
    await setUserDisabled(server.app.auth, lapsed.username, true);
    const inactive = await introspect(pair.accessToken, lapsedToken);
    expect(inactive.status).toBe(401);
    expect(inactive.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    expect(inactive.body).toEqual({ error: "invalid_token", error_description: "Inactive user" });

    // The caller's own token, once its session is ended, is refused like any other.
    const callerPair = await loginPair(server, rs.username, rs.password);
    await logoutMutation(server, callerPair.refreshToken);
    expect((await introspect(pair.accessToken, callerPair.accessToken)).status).toBe(401);
  });

  it("400 invalid_request without token or with a body that is not a form; 405 for GET", async () => {
    const bearer = await callerToken();
    for (const body of ["", "token=", "token_type_hint=access_token", "token=a&token=b"]) {
      const response = await postForm(server, "/introspect", body, { bearer });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: "invalid_request", error_description: expect.any(String) });
    }
    const json = await postForm(server, "/introspect", JSON.stringify({ token: "x" }), { bearer, contentType: "application/json" });
    expect(json.status).toBe(400);
    const get = await postForm(server, "/introspect", "", { bearer, method: "GET" });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    // The refresh grant is not disturbed by an introspection: the token is read, never spent.
    const [, pair] = await newUserPair();
    await introspect(pair.refreshToken, bearer);
    expect((await postToken(server, form({ grant_type: "refresh_token", refresh_token: pair.refreshToken }))).status).toBe(200);
  });

  it("no token introspected or presented as the caller's reaches a log line", async () => {
    const [, pair] = await newUserPair();
    expect((await both(pair)).map((answer) => answer.active)).toEqual([true, true]);
    const lines = logs.lines();
    expect(lines).toContain("request completed");
    for (const token of seen) if (token.length > 8) expect(lines).not.toContain(token);
  });
});
