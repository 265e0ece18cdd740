/** Webhooks (CONTRACT section 12): deliveries verified by standardwebhooks; retries, restarts, instances. */
import {
  DIALECTS,
  capturingLogger,
  createTestDatabase,
  movableClock,
  startTestServer,
  type TestDatabase,
  type TestServer,
} from "../harness";
import { startWebhookReceiver, type WebhookReceiver } from "../webhook-receiver";

const SECRET = `whsec_${Buffer.alloc(24, 9).toString("base64")}`;
const LOGIN = `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }`;
/** Short polls so that a due delivery goes out within milliseconds; the backoff stays the default. */
const FAST = { webhooks: { pollIntervalMs: 20 } };

function webhookEnv(receiver: WebhookReceiver): Record<string, string> {
  return { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(DIALECTS)("webhooks (%s)", (dialect) => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it("a 500 is retried with the same webhook-id within 15 s, signed and shaped as the contract says", async () => {
    const clock = movableClock();
    const receiver = await startWebhookReceiver(SECRET, (_id, previous) => (previous === 0 ? 500 : 200));
    cleanup.push(() => receiver.close());
    const { logger, lines } = capturingLogger("info");
    const server = await startTestServer({ dialect, clock, logger, env: webhookEnv(receiver), audit: FAST });
    cleanup.push(() => server.close());
    const user = await server.createUser();
    const login = await server.gql(LOGIN, { u: user.username, p: user.password }, { headers: { "user-agent": "hook-agent" } });
    const token = login.body.data.login.accessToken as string;

    await receiver.waitFor((r) => r.length === 1);
    const [first] = receiver.received;
    expect(first!.status).toBe(500);
    const event = await server.app.database.db.selectFrom("auth_events").selectAll().executeTakeFirstOrThrow();
    expect(first!.id).toBe(event.id);
    expect(first!.verified).toEqual({
      type: "login.succeeded",
      timestamp: new Date(Number(event.at)).toISOString(),
      data: {
        id: event.id,
        userId: user.id,
        sessionId: event.session_id,
        clientAddress: "127.0.0.1",
        userAgent: "hook-agent",
      },
    });
    expect(first!.timestamp).toBe(String(Math.floor(clock.now() / 1000)));
    expect(first!.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);

    // Not due yet: the clock stands still, and nothing arrives however long we wait in real time.
    await pause(200);
    expect(receiver.received).toHaveLength(1);
    clock.advance(15_000);
    await receiver.waitFor((r) => r.length === 2);
    const second = receiver.received[1]!;
    expect(second).toMatchObject({ id: first!.id, body: first!.body, status: 200 });
    expect(Number(second.timestamp) - Number(first!.timestamp)).toBe(15);
    expect(second.verified).toEqual(first!.verified);

    // Delivered: never sent again.
    clock.advance(24 * 60 * 60_000);
    await pause(200);
    expect(receiver.received).toHaveLength(2);
    const row = await server.app.database.db.selectFrom("webhook_outbox").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ event_id: event.id, status: "delivered" });
    expect(Number(row.attempts)).toBe(2);

    // The failure is logged by event id and status, never with the secret, body or token.
    const log = lines();
    expect(log).toContain("webhook delivery failed; retrying");
    expect(log).toContain("HTTP 500");
    for (const secret of [SECRET, SECRET.slice(6), first!.body, first!.signature, token, user.password]) expect(log).not.toContain(secret);
  });

  it("a receiver that never answers fails after the send timeout, and never holds up the request", async () => {
    const clock = movableClock();
    // A port that accepts and never answers.
    const { createServer } = await import("node:http");
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => (hanging.closeAllConnections(), hanging.close(resolve))));
    const port = (hanging.address() as { port: number }).port;
    const { logger, lines } = capturingLogger("info");
    const server = await startTestServer({
      dialect,
      clock,
      logger,
      env: { WEBHOOK_URL: `http://127.0.0.1:${port}/`, WEBHOOK_SECRET: SECRET },
      audit: { webhooks: { pollIntervalMs: 20, sendTimeoutMs: 150 } },
    });
    cleanup.push(() => server.close());
    const started = Date.now();
    const answer = await server.gql(LOGIN, { u: "nobody-at-all", p: "some password 1" });
    expect(answer.body.errors?.[0]).toMatchObject({ message: "Incorrect username or password" });
    expect(Date.now() - started).toBeLessThan(2_000);
    const deadline = Date.now() + 5_000;
    while (!lines().includes("TIMEOUT") && Date.now() < deadline) await pause(20);
    expect(lines()).toContain("webhook delivery failed; retrying");
    const row = await server.app.database.db.selectFrom("webhook_outbox").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: "pending", last_error: "TIMEOUT" });
  });

  it("the server restarted between the 500 and the retry: delivered once it is back", async () => {
    const clock = movableClock();
    const receiver = await startWebhookReceiver(SECRET, (_id, previous) => (previous === 0 ? 500 : 200));
    cleanup.push(() => receiver.close());
    const database = await createTestDatabase(dialect);
    cleanup.push(() => database.drop());
    const options = { dialect, clock, databaseUrl: database.url, env: webhookEnv(receiver), audit: FAST };
    const before = await startTestServer(options);
    await before.gql(LOGIN, { u: "someone-unknown", p: "a wrong password" });
    await receiver.waitFor((r) => r.length === 1);
    await before.close();

    clock.advance(15_000);
    await pause(100);
    expect(receiver.received).toHaveLength(1);
    const after = await startTestServer(options);
    cleanup.push(() => after.close());
    await receiver.waitFor((r) => r.length === 2);
    expect(receiver.received.map((r) => [r.id, r.status])).toEqual([
      [receiver.received[0]!.id, 500],
      [receiver.received[0]!.id, 200],
    ]);
    expect(receiver.received[1]!.verified).toMatchObject({ type: "login.failed", data: { userId: null } });
    clock.advance(60_000);
    await pause(200);
    expect(receiver.received).toHaveLength(2);
  });
});

describe("webhooks from two instances on PostgreSQL", () => {
  let receiver: WebhookReceiver | undefined;
  let database: TestDatabase | undefined;
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
    await database?.drop();
    await receiver?.close();
  });

  it("each event is delivered exactly once", async () => {
    receiver = await startWebhookReceiver(SECRET);
    database = await createTestDatabase("postgres");
    const options = { dialect: "postgres" as const, databaseUrl: database.url, env: webhookEnv(receiver), audit: FAST };
    servers.push(await startTestServer(options), await startTestServer(options));
    const events = 24;
    await Promise.all(Array.from({ length: events }, (_, i) => servers[i % 2]!.gql(LOGIN, { u: `unknown-${i}`, p: "not a password 1" })));
    await receiver.waitFor((r) => new Set(r.map((x) => x.id)).size === events, 20_000);
    await pause(500);
    expect(receiver.received).toHaveLength(events);
    expect(receiver.received.every((r) => r.status === 200 && r.verified !== undefined)).toBe(true);
    const rows = await servers[0]!.app.database.db.selectFrom("webhook_outbox").select(["status", "attempts"]).execute();
    expect(rows).toHaveLength(events);
    expect(rows.every((row) => row.status === "delivered" && Number(row.attempts) === 1)).toBe(true);
  });
});
