/** Sessions over HTTP (CONTRACT section 9): sid in every token, logout and revocation at once, the reuse interval. */
import { decodeJwt, movableClock, postToken, whoAmI, type Pair } from "../support";
import { setUserDisabled } from "../../src/auth/user-revocation";
import { DIALECTS, startTestServer, type TestServer, type TestUser } from "../harness";

const INVALID_REFRESH = { message: "Invalid refresh token", extensions: { code: "UNAUTHENTICATED" } };
const INVALID_TOKEN = { code: "UNAUTHENTICATED", message: "Could not validate credentials" };
const PAIR = "accessToken refreshToken expiresIn scope tokenType";
const SESSIONS = "{ mySessions { id createdAt lastUsedAt expiresAt userAgent clientAddress current mfa } }";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface SessionView {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  userAgent: string | null;
  clientAddress: string | null;
  current: boolean;
  mfa: boolean;
}

/** Both doors to a refresh: the GraphQL mutation and POST /token, answering a pair or the error. */
type Door = (server: TestServer, refreshToken: string) => Promise<{ pair?: Pair; error?: unknown }>;

const graphqlDoor: Door = async (server, t) => {
  const response = await server.gql(`mutation($t: String!) { refresh(refreshToken: $t) { ${PAIR} } }`, { t });
  return response.body.data?.refresh ? { pair: response.body.data.refresh } : { error: response.body.errors?.[0] };
};

const tokenDoor: Door = async (server, t) => {
  const response = await postToken(server, new URLSearchParams({ grant_type: "refresh_token", refresh_token: t }).toString());
  if (response.status !== 200) return { error: { status: response.status, ...response.body } };
  const b = response.body;
  return {
    pair: {
      accessToken: b.access_token,
      refreshToken: b.refresh_token,
      expiresIn: b.expires_in,
      scope: b.scope,
      tokenType: b.token_type,
    },
  };
};

const DOORS: ReadonlyArray<[string, Door]> = [
  ["GraphQL refresh", graphqlDoor],
  ["POST /token", tokenDoor],
];
/** The refusal each door gives a dead refresh token. */
const refusedBy = (door: Door) =>
  door === graphqlDoor ? INVALID_REFRESH : { status: 400, error: "invalid_grant", error_description: "Invalid refresh token" };

async function loginAs(server: TestServer, user: TestUser, userAgent?: string): Promise<Pair> {
  const response = await server.gql(
    `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { ${PAIR} } }`,
    { u: user.username, p: user.password },
    { headers: userAgent === undefined ? {} : { "user-agent": userAgent } },
  );
  if (!response.body.data?.login) throw new Error(`login failed: ${JSON.stringify(response.body.errors)}`);
  return response.body.data.login as Pair;
}

async function mySessions(server: TestServer, token: string): Promise<SessionView[]> {
  const response = await server.gql(SESSIONS, {}, { token });
  if (!response.body.data) throw new Error(JSON.stringify(response.body.errors));
  return response.body.data.mySessions as SessionView[];
}

const revokeSession = async (server: TestServer, token: string, id: string) =>
  (await server.gql("mutation($id: ID!) { revokeSession(id: $id) }", { id }, { token })).body;

describe.each(DIALECTS)("sessions (%s)", (dialect) => {
  const clock = movableClock();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dialect, clock });
  });
  afterAll(async () => server?.close());

  it("every access token names its session (sid), and a refresh keeps it", async () => {
    const user = await server.createUser();
    const pair = await loginAs(server, user);
    const { sid } = decodeJwt(pair.accessToken).payload;
    expect(sid).toMatch(UUID);
    const rotated = (await graphqlDoor(server, pair.refreshToken)).pair!;
    expect(decodeJwt(rotated.accessToken).payload.sid).toBe(sid);
    const viaToken = (await tokenDoor(server, rotated.refreshToken)).pair!;
    expect(decodeJwt(viaToken.accessToken).payload.sid).toBe(sid);
    expect((await mySessions(server, viaToken.accessToken)).map((s) => s.id)).toEqual([sid]);
  });

  it("two logins, two User-Agents: listed, right current; revokeSession ends one; revokeOtherSessions 1", async () => {
    const user = await server.createUser();
    const laptop = await loginAs(server, user, "Laptop/1.0");
    clock.advance(1000);
    const phone = await loginAs(server, user, "Phone/2.0");

    const seenByPhone = await mySessions(server, phone.accessToken);
    expect(seenByPhone).toEqual([
      {
        id: decodeJwt(phone.accessToken).payload.sid,
        userAgent: "Phone/2.0",
        clientAddress: "127.0.0.1",
        current: true,
        mfa: false,
        createdAt: expect.any(String),
        lastUsedAt: expect.any(String),
        expiresAt: expect.any(String),
      },
      {
        id: decodeJwt(laptop.accessToken).payload.sid,
        userAgent: "Laptop/1.0",
        clientAddress: "127.0.0.1",
        current: false,
        mfa: false,
        createdAt: expect.any(String),
        lastUsedAt: expect.any(String),
        expiresAt: expect.any(String),
      },
    ]);
    const [newest] = seenByPhone;
    expect(new Date(newest!.createdAt).getTime()).toBe(clock.now());
    expect(new Date(newest!.lastUsedAt).getTime()).toBe(clock.now());
    expect(new Date(newest!.expiresAt).getTime()).toBe(clock.now() + 14 * 24 * 3600 * 1000);
    expect((await mySessions(server, laptop.accessToken)).map((s) => [s.userAgent, s.current])).toEqual([
      ["Phone/2.0", false],
      ["Laptop/1.0", true],
    ]);

    // The laptop ends the phone's session: its refresh and access tokens die, the laptop's live on.
    expect(await revokeSession(server, laptop.accessToken, seenByPhone[0]!.id)).toEqual({
      data: { revokeSession: true },
    });
    expect(await whoAmI(server, phone.accessToken)).toEqual(INVALID_TOKEN);
    expect((await graphqlDoor(server, phone.refreshToken)).error).toMatchObject(INVALID_REFRESH);
    expect(await whoAmI(server, laptop.accessToken)).toBe(user.username);
    const laptopNext = (await graphqlDoor(server, laptop.refreshToken)).pair!;
    expect(await whoAmI(server, laptopNext.accessToken)).toBe(user.username);
    expect((await mySessions(server, laptopNext.accessToken)).map((s) => s.userAgent)).toEqual(["Laptop/1.0"]);

    // revokeOtherSessions: 1 (the tablet), and the current one stays.
    const tablet = await loginAs(server, user, "Tablet/3.0");
    expect((await server.gql("mutation { revokeOtherSessions }", {}, { token: laptopNext.accessToken })).body).toEqual({
      data: { revokeOtherSessions: 1 },
    });
    expect(await whoAmI(server, tablet.accessToken)).toEqual(INVALID_TOKEN);
    expect((await tokenDoor(server, tablet.refreshToken)).error).toMatchObject(refusedBy(tokenDoor));
    expect(await whoAmI(server, laptopNext.accessToken)).toBe(user.username);
    expect((await server.gql("mutation { revokeOtherSessions }", {}, { token: laptopNext.accessToken })).body).toEqual({
      data: { revokeOtherSessions: 0 },
    });
  });

  it("keeps at most 512 characters of the User-Agent", async () => {
    const user = await server.createUser();
    const pair = await loginAs(server, user, `UA/${"x".repeat(700)}`);
    const [session] = await mySessions(server, pair.accessToken);
    expect(session!.userAgent).toBe(`UA/${"x".repeat(509)}`);
  });

  it("logout(refreshToken): that session's access token answers Could not validate credentials at once", async () => {
    const user = await server.createUser();
    const pair = await loginAs(server, user);
    const other = await loginAs(server, user);
    expect(await whoAmI(server, pair.accessToken)).toBe(user.username);
    expect((await server.gql("mutation($t: String!) { logout(refreshToken: $t) }", { t: pair.refreshToken })).body).toEqual({
      data: { logout: true },
    });
    expect(await whoAmI(server, pair.accessToken)).toEqual(INVALID_TOKEN);
    const refused = await server.gql("{ status }", {}, { token: pair.accessToken });
    expect(refused.body.errors?.[0]).toMatchObject({
      message: "Could not validate credentials",
      extensions: { code: "UNAUTHENTICATED" },
    });
    expect(refused.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    expect(await whoAmI(server, other.accessToken)).toBe(user.username);
  });

  it("someone else's session id, a malformed id, an ended session: false, and nothing changes", async () => {
    const alice = await server.createUser();
    const bob = await server.createUser();
    const mine = await loginAs(server, alice);
    const theirs = await loginAs(server, bob);
    const theirId = decodeJwt(theirs.accessToken).payload.sid as string;

    for (const id of [theirId, "not-a-uuid", "' OR 1=1 --", "x".repeat(5000), "00000000-0000-4000-8000-000000000000"]) {
      expect(await revokeSession(server, mine.accessToken, id)).toEqual({ data: { revokeSession: false } });
    }
    const ended = await loginAs(server, alice);
    const endedId = decodeJwt(ended.accessToken).payload.sid as string;
    expect(await revokeSession(server, mine.accessToken, endedId)).toEqual({ data: { revokeSession: true } });
    expect(await revokeSession(server, mine.accessToken, endedId)).toEqual({ data: { revokeSession: false } });

    expect(await whoAmI(server, theirs.accessToken)).toBe(bob.username);
    expect((await mySessions(server, theirs.accessToken)).map((s) => s.id)).toEqual([theirId]);
    expect((await graphqlDoor(server, theirs.refreshToken)).pair?.refreshToken).toEqual(expect.any(String));
    // The ended session is not listed.
    expect((await mySessions(server, mine.accessToken)).map((s) => s.id)).toEqual([decodeJwt(mine.accessToken).payload.sid]);
  });

  it("needs a valid token and an active account; mySessions needs scope me", async () => {
    const user = await server.createUser();
    expect((await server.gql(SESSIONS)).body.errors?.[0]).toMatchObject({
      message: "Not authenticated",
      extensions: { code: "UNAUTHENTICATED" },
    });
    const itemsOnly = await server.gql(
      `mutation($u: String!, $p: String!) { login(username: $u, password: $p, scopes: ["items"]) { accessToken } }`,
      { u: user.username, p: user.password },
    );
    const token = itemsOnly.body.data.login.accessToken as string;
    expect((await server.gql(SESSIONS, {}, { token })).body.errors?.[0]).toMatchObject({
      message: "Not enough permissions",
      extensions: { code: "FORBIDDEN" },
    });
    await setUserDisabled(server.app.auth, user.username, true);
    const inactive = await server.gql("mutation { revokeOtherSessions }", {}, { token });
    expect(inactive.body.errors?.[0]).toMatchObject({ message: "Inactive user", extensions: { code: "FORBIDDEN" } });
  });

  it("disabling ends sessions for refresh; their tokens meet Inactive user (status ok), disabled first", async () => {
    const user = await server.createUser();
    const pair = await loginAs(server, user);
    await setUserDisabled(server.app.auth, user.username, true);
    expect(await whoAmI(server, pair.accessToken)).toEqual({ code: "FORBIDDEN", message: "Inactive user" });
    expect((await server.gql("{ status }", {}, { token: pair.accessToken })).body).toEqual({ data: { status: "ok" } });
    expect((await graphqlDoor(server, pair.refreshToken)).error).toMatchObject(INVALID_REFRESH);
    // Enabled again: its access tokens are valid again until they expire (CONTRACT section 6), but
    // refreshing stays ended.
    await setUserDisabled(server.app.auth, user.username, false);
    expect(await whoAmI(server, pair.accessToken)).toBe(user.username);
    expect((await tokenDoor(server, pair.refreshToken)).error).toMatchObject(refusedBy(tokenDoor));
    // A revocation still ends those access tokens at once.
    expect(await revokeSession(server, pair.accessToken, decodeJwt(pair.accessToken).payload.sid)).toEqual({
      data: { revokeSession: true },
    });
    expect(await whoAmI(server, pair.accessToken)).toEqual(INVALID_TOKEN);
  });

  it("judges a token without sid as before: signature, claims, token version", async () => {
    const user = await server.createUser();
    const pair = await loginAs(server, user);
    const noSid = (await server.app.tokens.issueAccessToken(user.id, ["me", "items"], { tokenVersion: 0 })).accessToken;
    expect(decodeJwt(noSid).payload.sid).toBeUndefined();
    expect(await whoAmI(server, noSid)).toBe(user.username);
    // Ending every session leaves it alone; a logout everywhere (the token version) does not.
    expect((await server.gql("mutation { revokeOtherSessions }", {}, { token: noSid })).body).toEqual({
      data: { revokeOtherSessions: 1 },
    });
    expect(await whoAmI(server, noSid)).toBe(user.username);
    expect(await mySessions(server, noSid)).toEqual([]);
    const again = await loginAs(server, user);
    clock.advance(1000);
    expect(
      (
        await server.gql("mutation($t: String!) { logout(refreshToken: $t, everywhere: true) }", {
          t: again.refreshToken,
        })
      ).body,
    ).toEqual({ data: { logout: true } });
    expect(await whoAmI(server, noSid)).toEqual(INVALID_TOKEN);
    expect(await whoAmI(server, pair.accessToken)).toEqual(INVALID_TOKEN);
  });

  it("refuses a sid that is not a UUID, or names another user's session", async () => {
    const alice = await server.createUser();
    const bob = await server.createUser();
    const bobs = await loginAs(server, bob);
    const bobSid = decodeJwt(bobs.accessToken).payload.sid as string;
    const forged = (await server.app.tokens.issueAccessToken(alice.id, ["me"], { tokenVersion: 0, sessionId: bobSid })).accessToken;
    expect(await whoAmI(server, forged)).toEqual(INVALID_TOKEN);
    const unknown = (
      await server.app.tokens.issueAccessToken(alice.id, ["me"], {
        tokenVersion: 0,
        sessionId: "00000000-0000-4000-8000-000000000000",
      })
    ).accessToken;
    expect(await whoAmI(server, unknown)).toEqual(INVALID_TOKEN);
    const malformed = (await server.app.tokens.issueAccessToken(alice.id, ["me"], { tokenVersion: 0, sessionId: "not-a-uuid" }))
      .accessToken;
    expect(await whoAmI(server, malformed)).toEqual(INVALID_TOKEN);
  });

  it("moves lastUsedAt at login and refresh only, never per request", async () => {
    const user = await server.createUser();
    const pair = await loginAs(server, user);
    const loginAt = clock.now();
    clock.advance(60_000);
    for (let i = 0; i < 3; i++) expect(await whoAmI(server, pair.accessToken)).toBe(user.username);
    expect(new Date((await mySessions(server, pair.accessToken))[0]!.lastUsedAt).getTime()).toBe(loginAt);
    const rotated = (await tokenDoor(server, pair.refreshToken)).pair!;
    expect(new Date((await mySessions(server, rotated.accessToken))[0]!.lastUsedAt).getTime()).toBe(clock.now());
  });

  describe.each(DOORS)("the reuse interval (10 s) through %s", (_name, door) => {
    it.each([2, 10])("%i concurrent refreshes with one token all get the same refresh token, and the session lives on", async (callers) => {
      const user = await server.createUser();
      const pair = await loginAs(server, user);
      const answers = await Promise.all(Array.from({ length: callers }, () => door(server, pair.refreshToken)));
      expect(answers.map((a) => a.error)).toEqual(answers.map(() => undefined));
      const children = new Set(answers.map((a) => a.pair!.refreshToken));
      expect(children.size).toBe(1);
      const [child] = children;
      expect(child).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(child).not.toBe(pair.refreshToken);
      // Every caller got a fresh access token of the same live session.
      expect(new Set(answers.map((a) => a.pair!.accessToken)).size).toBe(callers);
      for (const answer of answers) expect(await whoAmI(server, answer.pair!.accessToken)).toBe(user.username);
      const rows = await server.app.database.db.selectFrom("refresh_tokens").select("id").where("user_id", "=", user.id).execute();
      expect(rows).toHaveLength(2);
      // The shared child rotates as usual.
      const next = await door(server, child!);
      expect(next.pair?.refreshToken).toEqual(expect.any(String));
      expect(await whoAmI(server, next.pair!.accessToken)).toBe(user.username);
    });

    it("a repeat within the interval gets the same child; after the interval it ends the session", async () => {
      const user = await server.createUser();
      const pair = await loginAs(server, user);
      const first = (await door(server, pair.refreshToken)).pair!;
      clock.advance(9_000);
      const repeat = (await door(server, pair.refreshToken)).pair!;
      expect(repeat.refreshToken).toBe(first.refreshToken);
      clock.advance(2_000);
      expect((await door(server, pair.refreshToken)).error).toMatchObject(refusedBy(door));
      expect((await door(server, first.refreshToken)).error).toMatchObject(refusedBy(door));
      expect(await whoAmI(server, repeat.accessToken)).toEqual(INVALID_TOKEN);
    });

    it("presenting the grandparent within the interval ends the session", async () => {
      const user = await server.createUser();
      const pair = await loginAs(server, user);
      const child = (await door(server, pair.refreshToken)).pair!;
      const grandchild = (await door(server, child.refreshToken)).pair!;
      expect((await door(server, pair.refreshToken)).error).toMatchObject(refusedBy(door));
      expect((await door(server, grandchild.refreshToken)).error).toMatchObject(refusedBy(door));
      expect(await whoAmI(server, grandchild.accessToken)).toEqual(INVALID_TOKEN);
    });
  });
});

describe.each(DIALECTS)("sessions with REFRESH_TOKEN_REUSE_INTERVAL=0 (%s)", (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dialect, env: { REFRESH_TOKEN_REUSE_INTERVAL: "0" } });
  });
  afterAll(async () => server?.close());

  describe.each(DOORS)("through %s", (_name, door) => {
    it.each([2, 10])("of %i concurrent refreshes exactly one succeeds, and the session ends", async (callers) => {
      const user = await server.createUser();
      const pair = await loginAs(server, user);
      const answers = await Promise.all(Array.from({ length: callers }, () => door(server, pair.refreshToken)));
      const winners = answers.filter((a) => a.pair);
      expect(winners).toHaveLength(1);
      for (const loser of answers.filter((a) => !a.pair)) expect(loser.error).toMatchObject(refusedBy(door));
      expect((await door(server, winners[0]!.pair!.refreshToken)).error).toMatchObject(refusedBy(door));
      expect(await whoAmI(server, winners[0]!.pair!.accessToken)).toEqual(INVALID_TOKEN);
    });
  });
});

describe.each(DIALECTS)("sessions on two instances of one database (%s)", (dialect) => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    a = await startTestServer({ dialect });
    // Same database and SECRET_KEY: both derive the same successor of a refresh token.
    b = await startTestServer({ databaseUrl: a.database.url });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it.each(DOORS)("gives both instances the same refresh token when sent one at once (%s)", async (_name, door) => {
    const user = await a.createUser();
    const pair = await loginAs(a, user);
    const answers = await Promise.all([
      door(a, pair.refreshToken),
      door(b, pair.refreshToken),
      door(a, pair.refreshToken),
      door(b, pair.refreshToken),
    ]);
    expect(answers.map((x) => x.error)).toEqual([undefined, undefined, undefined, undefined]);
    expect(new Set(answers.map((x) => x.pair!.refreshToken)).size).toBe(1);
    expect(await whoAmI(b, answers[0]!.pair!.accessToken)).toBe(user.username);
    expect(await whoAmI(a, answers[1]!.pair!.accessToken)).toBe(user.username);
  });

  it("ends on B, at the next request, a session logged out or revoked on A", async () => {
    const user = await a.createUser();
    const first = await loginAs(a, user);
    const second = await loginAs(b, user);
    expect(await whoAmI(b, first.accessToken)).toBe(user.username);
    expect((await a.gql("mutation($t: String!) { logout(refreshToken: $t) }", { t: first.refreshToken })).body).toEqual({
      data: { logout: true },
    });
    expect(await whoAmI(b, first.accessToken)).toEqual(INVALID_TOKEN);
    expect(await revokeSession(a, first.accessToken, decodeJwt(second.accessToken).payload.sid)).toMatchObject({
      errors: [{ message: "Could not validate credentials" }],
    });
    const third = await loginAs(a, user);
    expect(await revokeSession(a, third.accessToken, decodeJwt(second.accessToken).payload.sid)).toEqual({
      data: { revokeSession: true },
    });
    expect(await whoAmI(b, second.accessToken)).toEqual(INVALID_TOKEN);
    expect((await graphqlDoor(b, second.refreshToken)).error).toMatchObject(INVALID_REFRESH);
  });
});
