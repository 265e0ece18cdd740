/** ATTACKS.md, refresh-token, /token and revocation lines (R1-R6, T4, J18, J24, P13). */
import { readFileSync } from "node:fs";
import { setUserDisabled } from "../../src/auth/user-revocation";
import { DIALECTS, startTestServer, type GraphQLResponse, type TestServer } from "../harness";
import { expectInvalidToken, expectMe, ME, movableClock, signJws } from "../support";

const LOGIN =
  "mutation ($u: String!, $p: String!, $s: [String!]) { login(username: $u, password: $p, scopes: $s) { accessToken refreshToken scope } }";
const REFRESH = "mutation ($t: String!) { refresh(refreshToken: $t) { accessToken refreshToken scope } }";
const LOGOUT = "mutation ($t: String!, $e: Boolean!) { logout(refreshToken: $t, everywhere: $e) }";
const CHANGE = "mutation ($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken refreshToken } }";

interface Pair {
  accessToken: string;
  refreshToken: string;
  scope: string;
}

function expectInvalidRefresh(response: GraphQLResponse): void {
  expect(response.status).toBeLessThan(500);
  expect(response.body.errors?.[0]).toMatchObject({ message: "Invalid refresh token", extensions: { code: "UNAUTHENTICATED" } });
  expect(response.body.data ?? null).toBeNull();
}

async function form(url: string, body: string | Record<string, string>, init: RequestInit = {}) {
  const response = await fetch(`${url}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: typeof body === "string" ? body : new URLSearchParams(body).toString(),
    ...init,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: (() => {
      try {
        return JSON.parse(text);
      } catch {
        return undefined;
      }
    })(),
  };
}

describe.each(DIALECTS)("token lifecycle attacks (%s)", (dialect) => {
  const clock = movableClock();
  let server: TestServer;
  const login = async (u: string, p: string, s?: string[]): Promise<Pair> => {
    const response = await server.gql(LOGIN, { u, p, s });
    if (!response.body.data?.login) throw new Error(JSON.stringify(response.body.errors));
    return response.body.data.login as Pair;
  };
  const refresh = (t: string) => server.gql(REFRESH, { t });

  beforeAll(async () => {
    // Strict single use (R1, R2 as first written); the reuse interval's grace is sessions.test.ts's.
    const env = { LOGIN_MAX_FAILURES: "5", REFRESH_TOKEN_REUSE_INTERVAL: "0" };
    server = await startTestServer({ dialect, clock, env });
  });
  afterAll(async () => server?.close());

  it("R1 a replayed refresh token is refused and its whole session dies", async () => {
    const user = await server.createUser();
    const first = await login(user.username, user.password);
    const second = (await refresh(first.refreshToken)).body.data.refresh as Pair;
    expectInvalidRefresh(await refresh(first.refreshToken));
    expectInvalidRefresh(await refresh(second.refreshToken));
  });

  it("R2 two parallel refreshes of one token: exactly one pair is issued", async () => {
    const user = await server.createUser();
    const pair = await login(user.username, user.password);
    const results = await Promise.all(Array.from({ length: 5 }, () => refresh(pair.refreshToken)));
    expect(results.filter((r) => r.body.data?.refresh)).toHaveLength(1);
    for (const r of results.filter((r) => !r.body.data?.refresh)) expectInvalidRefresh(r);
  });

  it("R3 refresh after logout, after users disable, after changePassword: Invalid refresh token", async () => {
    const user = await server.createUser();
    const a = await login(user.username, user.password);
    expect((await server.gql(LOGOUT, { t: a.refreshToken, e: false })).body.data).toEqual({ logout: true });
    expectInvalidRefresh(await refresh(a.refreshToken));

    const b = await login(user.username, user.password);
    const c = await login(user.username, user.password);
    const changed = await server.gql(CHANGE, { c: user.password, n: "a-brand-new-password" }, { token: c.accessToken });
    expect(changed.body.data?.changePassword.accessToken).toEqual(expect.any(String));
    expectInvalidRefresh(await refresh(b.refreshToken));

    const other = await server.createUser();
    const d = await login(other.username, other.password);
    await setUserDisabled(server.app.auth, other.username, true);
    expectInvalidRefresh(await refresh(d.refreshToken));
  });

  it("R4 rotations past REFRESH_TOKEN_EXPIRE_DAYS from the first login are refused: the lifetime is absolute", async () => {
    const user = await server.createUser();
    let pair = await login(user.username, user.password);
    for (let day = 0; day < 13; day++) {
      clock.advance(24 * 3600 * 1000);
      pair = (await refresh(pair.refreshToken)).body.data.refresh as Pair;
    }
    clock.advance(24 * 3600 * 1000 + 1000);
    expectInvalidRefresh(await refresh(pair.refreshToken));
  });

  it("R5 an access JWT, an empty string, 1 MB of text or SQL given to refresh: Invalid refresh token", async () => {
    const user = await server.createUser();
    const pair = await login(user.username, user.password);
    for (const t of [pair.accessToken, "", "' OR 1=1 --", "x".repeat(60_000)]) expectInvalidRefresh(await refresh(t));
    const huge = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: REFRESH, variables: { t: "x".repeat(1024 * 1024) } }),
    });
    expect(huge.status).toBe(413);
  });

  it("R6 the database holds only hashes of refresh tokens", async () => {
    const user = await server.createUser();
    const pair = await login(user.username, user.password);
    const rows = await server.app.database.db.selectFrom("refresh_tokens").selectAll().execute();
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(pair.refreshToken);
    if (dialect === "sqlite") {
      const file = server.database.url.replace(/^sqlite:/, "");
      for (const suffix of ["", "-wal"]) {
        let bytes = "";
        try {
          bytes = readFileSync(`${file}${suffix}`).toString("latin1");
        } catch {
          continue;
        }
        expect(bytes.includes(pair.refreshToken)).toBe(false);
      }
    }
  });

  // R7 and T1-T3, and T4's 405: test/integration/token-endpoint.test.ts.

  it("T4 rate limited: 429 with Retry-After, counted with the GraphQL door", async () => {
    const user = await server.createUser();
    for (let i = 0; i < 5; i++)
      expect((await form(server.url, { grant_type: "password", username: user.username, password: `wrong-${i}` })).json.error).toBe(
        "invalid_grant",
      );
    const limited = await form(server.url, { grant_type: "password", username: user.username, password: user.password });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // The GraphQL door shares the same counter.
    expect((await server.gql(LOGIN, { u: user.username, p: user.password })).body.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
  });

  it("J18 tokens issued before logout(everywhere) or before changePassword: invalid_token", async () => {
    const user = await server.createUser();
    const early = await login(user.username, user.password);
    clock.advance(1000);
    const current = await login(user.username, user.password);
    await server.gql(LOGOUT, { t: current.refreshToken, e: true });
    expectInvalidToken(await server.gql(ME, {}, { token: early.accessToken }));
    expectInvalidToken(await server.gql(ME, {}, { token: current.accessToken }));

    clock.advance(1000);
    const before = await login(user.username, user.password);
    clock.advance(1000);
    const changed = await server.gql(CHANGE, { c: user.password, n: "another-new-password" }, { token: before.accessToken });
    expectInvalidToken(await server.gql(ME, {}, { token: before.accessToken }));
    expectMe(await server.gql(ME, {}, { token: changed.body.data.changePassword.accessToken }), user.id);
  });

  it("J24 a revoked token re-encoded or re-signed is still revoked", async () => {
    const user = await server.createUser();
    const pair = await login(user.username, user.password);
    clock.advance(1000);
    await server.gql(LOGOUT, { t: pair.refreshToken, e: true });
    const [h, p] = pair.accessToken.split(".") as [string, string];
    // Re-signed with the key (as someone holding it might), and with base64 padding variants.
    const text = (segment: string) => Buffer.from(segment, "base64url").toString("utf8");
    const resigned = signJws(text(h), text(p));
    expect(resigned.startsWith(`${h}.${p}.`)).toBe(true);
    expectInvalidToken(await server.gql(ME, {}, { token: resigned }));
    const padded = `${h}.${Buffer.from(p, "base64url").toString("base64")}.${resigned.split(".")[2]}`;
    expectInvalidToken(await server.gql(ME, {}, { token: padded }));
  });

  it("P13 changePassword: a wrong current password is counted toward the limit; policy bounds; older tokens die", async () => {
    const user = await server.createUser();
    const pair = await login(user.username, user.password);
    const tooShort = await server.gql(CHANGE, { c: user.password, n: "7chars!" }, { token: pair.accessToken });
    expect(tooShort.body.errors?.[0]).toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
    const tooLong = await server.gql(CHANGE, { c: user.password, n: "x".repeat(1025) }, { token: pair.accessToken });
    expect(tooLong.body.errors?.[0]).toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
    for (let i = 0; i < 5; i++) {
      const wrong = await server.gql(CHANGE, { c: `wrong-${i}-password`, n: "a-good-new-password" }, { token: pair.accessToken });
      expect(wrong.body.errors?.[0]).toMatchObject({ message: "Incorrect password", extensions: { code: "UNAUTHENTICATED" } });
    }
    const locked = await server.gql(CHANGE, { c: user.password, n: "a-good-new-password" }, { token: pair.accessToken });
    expect(locked.body.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    expect((await server.gql(LOGIN, { u: user.username, p: user.password })).body.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");

    clock.advance(16 * 60 * 1000);
    const fresh = await login(user.username, user.password);
    clock.advance(1000);
    const changed = await server.gql(CHANGE, { c: user.password, n: "a-good-new-password" }, { token: fresh.accessToken });
    expect(changed.body.data?.changePassword.accessToken).toEqual(expect.any(String));
    expectInvalidToken(await server.gql(ME, {}, { token: fresh.accessToken }));
    expectInvalidRefresh(await refresh(fresh.refreshToken));
  });
});
