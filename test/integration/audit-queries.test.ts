/** authEvents (scope admin) and myAuthEvents (the viewer's own): scopes, pages, cursors; retention by the clock. */
import { DIALECTS, movableClock, startTestServer, type GraphQLResponse, type TestServer, type TestUser } from "../harness";
import { DAY_MS, loginPair } from "../support";

const LOGIN = `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }`;
const AUTH_EVENTS = `query($first: Int!, $after: String, $userId: ID, $type: String) {
  authEvents(first: $first, after: $after, userId: $userId, type: $type) {
    edges { cursor node { id type at userId sessionId clientAddress userAgent } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const MY_EVENTS = `query($first: Int!, $after: String) {
  myAuthEvents(first: $first, after: $after) {
    edges { cursor node { id type at userId } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Connection {
  edges: Array<{ node: Node }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

interface Node {
  id: string;
  type: string;
  at: string;
  userId: string | null;
}

describe.each(DIALECTS)("audit queries (%s)", (dialect) => {
  const clock = movableClock();
  let server: TestServer;
  let admin: TestUser;
  let adminToken: string;

  beforeAll(async () => {
    server = await startTestServer({ dialect, clock, audit: { retention: { intervalMs: 20, batchSize: 3 } } });
    admin = await server.createUser({ scopes: ["me", "items", "admin"] });
    adminToken = (await loginPair(server, admin.username, admin.password)).accessToken;
  });
  afterAll(async () => server?.close());

  /** Logs `who` in `times` times, a millisecond apart, and once fails: events to page through. */
  async function activity(who: TestUser, times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      clock.advance(1);
      await server.gql(LOGIN, { u: who.username, p: who.password });
    }
    clock.advance(1);
    await server.gql(LOGIN, { u: who.username, p: "not the password" });
  }

  async function pages(query: string, token: string, variables: Record<string, unknown>, first: number): Promise<Node[][]> {
    const result: Node[][] = [];
    let after = (variables.after as string | undefined) ?? null;
    for (;;) {
      const response: GraphQLResponse = await server.gql(query, { ...variables, first, after }, { token });
      expect(response.body.errors).toBeUndefined();
      const connection: Connection = response.body.data[query === MY_EVENTS ? "myAuthEvents" : "authEvents"];
      result.push(connection.edges.map((e) => e.node));
      if (!connection.pageInfo.hasNextPage) return result;
      after = connection.pageInfo.endCursor;
    }
  }

  it("authEvents needs scope admin and an active account; others get the contract's answers", async () => {
    const plain = await server.createUser();
    const plainToken = (await loginPair(server, plain.username, plain.password)).accessToken;
    expect((await server.gql(AUTH_EVENTS, { first: 5 })).body.errors?.[0]).toMatchObject({
      message: "Not authenticated",
      extensions: { code: "UNAUTHENTICATED" },
    });
    const forbidden = await server.gql(AUTH_EVENTS, { first: 5 }, { token: plainToken });
    expect(forbidden.body.errors?.[0]).toMatchObject({
      message: "Not enough permissions",
      extensions: { code: "FORBIDDEN" },
    });
    // An admin's token without the admin scope is refused too.
    const narrowed = await loginPair(server, admin.username, admin.password, ["me"]);
    expect((await server.gql(AUTH_EVENTS, { first: 5 }, { token: narrowed.accessToken })).body.errors?.[0]).toMatchObject({
      message: "Not enough permissions",
      extensions: { code: "FORBIDDEN" },
    });
    expect((await server.gql(AUTH_EVENTS, { first: 5 }, { token: adminToken })).body.data.authEvents.edges.length).toBeGreaterThan(0);

    const other = await server.createUser({ scopes: ["me", "admin"] });
    const otherToken = (await loginPair(server, other.username, other.password)).accessToken;
    await server.app.users.setDisabled(other.username, true);
    expect((await server.gql(AUTH_EVENTS, { first: 5 }, { token: otherToken })).body.errors?.[0]).toMatchObject({
      message: "Inactive user",
      extensions: { code: "FORBIDDEN" },
    });
    expect((await server.gql(MY_EVENTS, { first: 5 }, { token: otherToken })).body.errors?.[0]).toMatchObject({
      message: "Inactive user",
      extensions: { code: "FORBIDDEN" },
    });
  });

  it("filters by user and type, newest first, across pages with inserts in between", async () => {
    const who = await server.createUser();
    await activity(who, 4);
    const all = (await pages(AUTH_EVENTS, adminToken, { userId: who.id }, 2)).flat();
    expect(all.map((n) => n.type)).toEqual(["login.failed", ...Array(4).fill("login.succeeded")]);
    expect(all.every((n) => n.userId === who.id)).toBe(true);
    const times = all.map((n) => Date.parse(n.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    // A page, then new events, then the next page: nothing skipped, nothing repeated.
    const first = await server.gql(AUTH_EVENTS, { first: 2, userId: who.id }, { token: adminToken });
    const cursor = first.body.data.authEvents.pageInfo.endCursor;
    await activity(who, 1);
    const rest = (await pages(AUTH_EVENTS, adminToken, { userId: who.id, after: cursor }, 2)).flat();
    const firstIds = first.body.data.authEvents.edges.map((e: { node: Node }) => e.node.id);
    expect([...firstIds, ...rest.map((n) => n.id)]).toEqual(all.map((n) => n.id));

    const succeeded = (await pages(AUTH_EVENTS, adminToken, { userId: who.id, type: "login.succeeded" }, 100)).flat();
    expect(succeeded).toHaveLength(5);
    expect(succeeded.every((n) => n.type === "login.succeeded")).toBe(true);
  });

  it("myAuthEvents answers the viewer's own events only, newest first", async () => {
    const me = await server.createUser();
    const someoneElse = await server.createUser();
    await activity(me, 2);
    await activity(someoneElse, 2);
    const token = (await loginPair(server, me.username, me.password)).accessToken;
    const mine = (await pages(MY_EVENTS, token, {}, 1)).flat();
    expect(mine.map((n) => n.type)).toEqual(["login.succeeded", "login.failed", "login.succeeded", "login.succeeded"]);
    expect(mine.every((n) => n.userId === me.id)).toBe(true);
    const itemsOnly = (await loginPair(server, me.username, me.password, ["items"])).accessToken;
    expect((await server.gql(MY_EVENTS, { first: 5 }, { token: itemsOnly })).body.errors?.[0]).toMatchObject({
      message: "Not enough permissions",
      extensions: { code: "FORBIDDEN" },
    });
  });

  it("first outside 1..100, a foreign cursor and an unknown type are BAD_USER_INPUT", async () => {
    const me = await server.createUser();
    const token = (await loginPair(server, me.username, me.password)).accessToken;
    for (const first of [0, 101, -1]) {
      for (const [query, t] of [
        [AUTH_EVENTS, adminToken],
        [MY_EVENTS, token],
      ] as const)
        expect((await server.gql(query, { first }, { token: t })).body.errors?.[0]).toMatchObject({
          message: "first must be between 1 and 100",
          extensions: { code: "BAD_USER_INPUT" },
        });
    }
    for (const after of ["nonsense", Buffer.from("1:x").toString("base64url"), "x".repeat(500)])
      expect((await server.gql(MY_EVENTS, { first: 5, after }, { token })).body.errors?.[0]).toMatchObject({
        message: "Invalid cursor",
        extensions: { code: "BAD_USER_INPUT" },
      });
    expect((await server.gql(AUTH_EVENTS, { first: 5, type: "login.nope" }, { token: adminToken })).body.errors?.[0]).toMatchObject({
      message: "Unknown event type",
      extensions: { code: "BAD_USER_INPUT" },
    });
    expect((await server.gql(MY_EVENTS, { first: 100 }, { token })).body.errors).toBeUndefined();
  });

  it("retention deletes events older than AUTH_EVENTS_RETENTION_DAYS (90) in batches as the server runs", async () => {
    const old = await server.createUser();
    await activity(old, 7);
    const count = async (userId: string) =>
      (await server.app.database.db.selectFrom("auth_events").select("id").where("user_id", "=", userId).execute()).length;
    expect(await count(old.id)).toBe(8);
    clock.advance(89 * DAY_MS);
    const recent = await server.createUser();
    await activity(recent, 1);
    // Nothing is 90 days old yet: a few sweeps later everything is still there.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await count(old.id)).toBe(8);
    clock.advance(DAY_MS + 60_000);
    // Batches of 3: the 8 old events go in several statements; the recent ones stay.
    const deadline = Date.now() + 5_000;
    while ((await count(old.id)) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await count(old.id)).toBe(0);
    expect(await count(recent.id)).toBe(2);
  });
});
