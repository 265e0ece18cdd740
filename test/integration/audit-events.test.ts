/** The audit log (CONTRACT section 12): each event from the action that causes it, both doors; nothing secret. */
import { addUser } from "../../src/users/add-user";
import { setUserDisabled } from "../../src/auth/user-revocation";
import { DIALECTS, startTestServer, type TestServer, type TestUser } from "../harness";
import { decodeJwt, postToken, type Pair } from "../support";
import { startWebhookReceiver, type WebhookReceiver } from "../webhook-receiver";

const SECRET = `whsec_${Buffer.alloc(32, 42).toString("base64")}`;
const UA = "audit-test-agent/1.0";
const ADDRESS = "127.0.0.1";
const LOGIN = `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken refreshToken } }`;

interface StoredEvent {
  id: string;
  type: string;
  user_id: string | null;
  session_id: string | null;
  client_address: string | null;
  user_agent: string | null;
}

describe.each(DIALECTS)("audit events (%s)", (dialect) => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  /** Every password, refresh token and access token this suite used, to search the events for. */
  const secrets: string[] = [SECRET];

  beforeAll(async () => {
    receiver = await startWebhookReceiver(SECRET);
    server = await startTestServer({
      dialect,
      // Strict refresh, so presenting a spent token again is reuse at once.
      env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, REFRESH_TOKEN_REUSE_INTERVAL: "0" },
      audit: { webhooks: { pollIntervalMs: 20 } },
    });
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
  });

  async function user(scopes?: string[]): Promise<TestUser> {
    const created = await server.createUser({ scopes });
    secrets.push(created.password);
    return created;
  }

  function gql(query: string, variables: Record<string, unknown> = {}, token?: string) {
    return server.gql(query, variables, { token, headers: { "user-agent": UA } });
  }

  async function login(who: TestUser): Promise<Pair & { sid: string }> {
    const response = await gql(LOGIN, { u: who.username, p: who.password });
    const pair = response.body.data.login as Pair;
    secrets.push(pair.accessToken, pair.refreshToken);
    return { ...pair, sid: decodeJwt(pair.accessToken).payload.sid as string };
  }

  function events(where: { userId?: string | null; type?: string }): Promise<StoredEvent[]> {
    let query = server.app.database.db.selectFrom("auth_events").selectAll();
    if (where.userId === null) query = query.where("user_id", "is", null);
    else if (where.userId !== undefined) query = query.where("user_id", "=", where.userId);
    if (where.type !== undefined) query = query.where("type", "=", where.type);
    return query.orderBy("at").orderBy("id").execute() as Promise<StoredEvent[]>;
  }

  /** What each row expects of its one event: the ids and where the request came from. */
  type Expected = Partial<Pick<StoredEvent, "session_id" | "client_address" | "user_agent">>;
  const fromClient: Expected = { client_address: ADDRESS, user_agent: UA };

  const rows: Array<[string, (who: TestUser) => Promise<Expected>]> = [
    ["login.succeeded", async (who) => ({ ...fromClient, session_id: (await login(who)).sid })],
    [
      "login.failed",
      async (who) => {
        const response = await gql(LOGIN, { u: who.username, p: "wrong-password-1" });
        expect(response.body.errors?.[0]).toMatchObject({ message: "Incorrect username or password" });
        return { ...fromClient, session_id: null };
      },
    ],
    [
      "login.rate_limited",
      async (who) => {
        for (let i = 0; i < 5; i++) await gql(LOGIN, { u: who.username, p: `wrong-password-${i}` });
        const response = await gql(LOGIN, { u: who.username, p: who.password });
        expect(response.body.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
        return { ...fromClient, session_id: null };
      },
    ],
    [
      "refresh.reuse_detected",
      async (who) => {
        const pair = await login(who);
        const refresh = `mutation($t: String!) { refresh(refreshToken: $t) { refreshToken } }`;
        const first = await gql(refresh, { t: pair.refreshToken });
        secrets.push(first.body.data.refresh.refreshToken);
        const again = await gql(refresh, { t: pair.refreshToken });
        expect(again.body.errors?.[0]).toMatchObject({ message: "Invalid refresh token" });
        return { ...fromClient, session_id: pair.sid };
      },
    ],
    [
      "logout",
      async (who) => {
        const pair = await login(who);
        expect((await gql(`mutation($t: String!) { logout(refreshToken: $t) }`, { t: pair.refreshToken })).body.data).toEqual({
          logout: true,
        });
        return { ...fromClient, session_id: pair.sid };
      },
    ],
    [
      "session.revoked",
      async (who) => {
        const mine = await login(who);
        const other = await login(who);
        const response = await gql(`mutation($id: ID!) { revokeSession(id: $id) }`, { id: other.sid }, mine.accessToken);
        expect(response.body.data).toEqual({ revokeSession: true });
        return { ...fromClient, session_id: other.sid };
      },
    ],
    [
      "password.changed",
      async (who) => {
        const pair = await login(who);
        const changed = `mutation($c: String!, $n: String!) {
          changePassword(currentPassword: $c, newPassword: $n) { refreshToken }
        }`;
        const fresh = "a brand new passphrase 1";
        secrets.push(fresh);
        const response = await gql(changed, { c: who.password, n: fresh }, pair.accessToken);
        secrets.push(response.body.data.changePassword.refreshToken);
        return { ...fromClient, session_id: null };
      },
    ],
    [
      "user.disabled",
      async (who) => {
        await setUserDisabled({ users: server.app.users, clock: server.app.auth.clock, audit: server.app.audit }, who.username, true);
        return { session_id: null, client_address: null, user_agent: null };
      },
    ],
    [
      "user.enabled",
      async (who) => {
        const deps = { users: server.app.users, clock: server.app.auth.clock, audit: server.app.audit };
        await setUserDisabled(deps, who.username, true);
        await setUserDisabled(deps, who.username, false);
        return { session_id: null, client_address: null, user_agent: null };
      },
    ],
  ];

  it.each(rows)("%s is recorded by the action that causes it, with the contract's fields", async (type, act) => {
    const who = await user();
    const expected = await act(who);
    const recorded = await events({ userId: who.id, type });
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ type, user_id: who.id, ...expected });
  });

  it("revokeOtherSessions records session.revoked once for each session it ends", async () => {
    const who = await user();
    const mine = await login(who);
    const others = [(await login(who)).sid, (await login(who)).sid];
    expect((await gql("mutation { revokeOtherSessions }", {}, mine.accessToken)).body.data).toEqual({
      revokeOtherSessions: 2,
    });
    const recorded = await events({ userId: who.id, type: "session.revoked" });
    expect(recorded.map((e) => e.session_id).sort()).toEqual(others.sort());
    expect(recorded.every((e) => e.client_address === ADDRESS && e.user_agent === UA)).toBe(true);
  });

  it("a failed login of an unknown username records no user and no username", async () => {
    const unknown = `nobody_${Date.now()}_audit`;
    const before = (await events({ userId: null, type: "login.failed" })).length;
    const response = await gql(LOGIN, { u: unknown, p: "whatever-password-9" });
    expect(response.body.errors?.[0]).toMatchObject({ message: "Incorrect username or password" });
    const after = await events({ userId: null, type: "login.failed" });
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)).toMatchObject({ user_id: null, session_id: null, client_address: ADDRESS, user_agent: UA });
    const everything = JSON.stringify(await server.app.database.db.selectFrom("auth_events").selectAll().execute());
    expect(everything).not.toContain(unknown);
  });

  it("POST /token records login.succeeded, login.failed and refresh.reuse_detected the same way", async () => {
    const who = await user();
    const headers = { "user-agent": UA };
    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
    const granted = await postToken(server, form({ grant_type: "password", username: who.username, password: who.password }), { headers });
    expect(granted.status).toBe(200);
    secrets.push(granted.body.access_token, granted.body.refresh_token);
    const sid = decodeJwt(granted.body.access_token).payload.sid;
    expect(await events({ userId: who.id, type: "login.succeeded" })).toEqual([
      expect.objectContaining({ session_id: sid, ...fromClient }),
    ]);
    const refused = await postToken(server, form({ grant_type: "password", username: who.username, password: "not-it-at-all" }), {
      headers,
    });
    expect(refused.body.error).toBe("invalid_grant");
    expect(await events({ userId: who.id, type: "login.failed" })).toEqual([expect.objectContaining(fromClient)]);
    const rotated = await postToken(server, form({ grant_type: "refresh_token", refresh_token: granted.body.refresh_token }), { headers });
    secrets.push(rotated.body.refresh_token, rotated.body.access_token);
    const reused = await postToken(server, form({ grant_type: "refresh_token", refresh_token: granted.body.refresh_token }), { headers });
    expect(reused.body.error).toBe("invalid_grant");
    expect(await events({ userId: who.id, type: "refresh.reuse_detected" })).toEqual([
      expect.objectContaining({ session_id: sid, ...fromClient }),
    ]);
  });

  it("users add (the add-user use case) records user.created with the account; a refused one nothing", async () => {
    const password = "an added user's password";
    secrets.push(password);
    const deps = { users: server.app.users, passwords: server.app.passwords, audit: server.app.audit };
    const added = await addUser(deps, { username: `added_${Date.now()}`, password: async () => password });
    expect(await events({ userId: added.id })).toEqual([
      expect.objectContaining({ type: "user.created", session_id: null, client_address: null, user_agent: null }),
    ]);
    const all = (await events({ type: "user.created" })).length;
    await expect(addUser(deps, { username: added.username, password: async () => password })).rejects.toMatchObject({
      name: "UsernameTaken",
    });
    expect(await events({ type: "user.created" })).toHaveLength(all);

    // Sign-up names its own event, with the request's origin.
    const registered = await addUser(deps, {
      username: `registered_${Date.now()}`,
      password: async () => password,
      event: "user.registered",
      client: { clientAddress: "192.0.2.9", userAgent: UA },
    });
    expect(await events({ userId: registered.id })).toEqual([
      expect.objectContaining({ type: "user.registered", client_address: "192.0.2.9", user_agent: UA }),
    ]);
  });

  it("no event or webhook body holds a password, token, hash or the webhook secret", async () => {
    const count = Number(
      (
        await server.app.database.db
          .selectFrom("auth_events")
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
    expect(count).toBeGreaterThan(20);
    // Every event reached the receiver, each verified by the library.
    await receiver.waitFor((received) => new Set(received.filter((r) => r.verified).map((r) => r.id)).size >= count);
    const stored = JSON.stringify(await server.app.database.db.selectFrom("auth_events").selectAll().execute());
    const outbox = JSON.stringify(await server.app.database.db.selectFrom("webhook_outbox").selectAll().execute());
    const delivered = JSON.stringify(receiver.received.map((r) => r.body));
    for (const text of [stored, outbox, delivered]) {
      for (const secret of secrets) expect(text).not.toContain(secret);
      for (const marker of ["$argon2", "$2b$", "eyJ"]) expect(text).not.toContain(marker);
    }
    expect(secrets.length).toBeGreaterThan(20);
  });
});
