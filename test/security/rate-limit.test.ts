/** ATTACKS.md, rate-limit lines (P3, M2-M4, G12): failed logins counted in the shared database. */
import { randomBytes } from "node:crypto";
import { DIALECTS, startTestServer, uniqueName, type GraphQLResponse, type TestServer } from "../harness";
import { expectIncorrectCredentials, expectRateLimited, movableClock } from "../support";

const LOGIN = "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";

function attempt(server: TestServer, username: string, password: string, forwardedFor?: string): Promise<GraphQLResponse> {
  return server.gql(LOGIN, { u: username, p: password }, forwardedFor ? { headers: { "x-forwarded-for": forwardedFor } } : {});
}

const wrong = () => `wrong-${randomBytes(4).toString("hex")}`;

async function counter(server: TestServer, key: string): Promise<number | undefined> {
  const row = await server.app.database.db.selectFrom("login_attempts").select("attempts").where("key", "=", key).executeTakeFirst();
  return row && Number(row.attempts);
}

describe.each(DIALECTS)("login rate limits (%s)", (dialect) => {
  const clock = movableClock();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dialect, clock });
  });
  afterAll(async () => server?.close());

  it("P3 a locked username refuses the right password too, and unknown usernames lock the same way", async () => {
    const user = await server.createUser();
    const stranger = uniqueName("nobody");
    for (let i = 0; i < 5; i++) {
      expectIncorrectCredentials(await attempt(server, user.username, wrong()));
      expectIncorrectCredentials(await attempt(server, stranger, wrong()));
    }
    const known = await attempt(server, user.username, user.password);
    const unknown = await attempt(server, stranger, wrong());
    const knownRetry = expectRateLimited(known);
    const unknownRetry = expectRateLimited(unknown);
    expect(knownRetry).toBeGreaterThan(890);
    expect(knownRetry).toBeLessThanOrEqual(900);
    expect(Math.abs(knownRetry - unknownRetry)).toBeLessThanOrEqual(1);
    expect({ ...known.body, errors: undefined }).toEqual({ ...unknown.body, errors: undefined });
    expect(known.status).toBe(unknown.status);
    // The username's case, width and surrounding spaces do not give a fresh budget.
    expectRateLimited(await attempt(server, ` ${user.username.toUpperCase()} `, user.password));
  });

  it("M3 the lock is bounded, retryAfter is honest, and a success resets the count", async () => {
    const user = await server.createUser();
    for (let i = 0; i < 5; i++) expectIncorrectCredentials(await attempt(server, user.username, wrong()));
    expectRateLimited(await attempt(server, user.username, user.password));
    clock.advance(5 * 60 * 1000);
    const retryAfter = expectRateLimited(await attempt(server, user.username, user.password));
    expect(retryAfter).toBeGreaterThan(590);
    expect(retryAfter).toBeLessThanOrEqual(600);
    // Attempts while locked do not extend the lock.
    clock.advance(retryAfter * 1000);
    expect((await attempt(server, user.username, user.password)).body.data?.login.accessToken).toEqual(expect.any(String));

    for (let i = 0; i < 4; i++) expectIncorrectCredentials(await attempt(server, user.username, wrong()));
    const reset = await attempt(server, user.username, user.password);
    expect(reset.body).toEqual({ data: { login: { accessToken: expect.any(String) } } });
    for (let i = 0; i < 5; i++) expectIncorrectCredentials(await attempt(server, user.username, wrong()));
    expectRateLimited(await attempt(server, user.username, wrong()));
  });

  it("M4 concurrent wrong attempts: increments are atomic, exactly LOGIN_MAX_FAILURES get through", async () => {
    const user = await server.createUser();
    const responses = await Promise.all(Array.from({ length: 20 }, () => attempt(server, user.username, wrong())));
    const codes = responses.map((r) => r.body.errors?.[0]?.extensions?.code);
    expect(codes.filter((c) => c === "UNAUTHENTICATED")).toHaveLength(5);
    expect(codes.filter((c) => c === "RATE_LIMITED")).toHaveLength(15);
    expect(await counter(server, `user:${user.username.toLowerCase()}`)).toBe(20);
  });

  it("expired windows are swept without an operator's job", async () => {
    const stranger = uniqueName("sweep");
    expectIncorrectCredentials(await attempt(server, stranger, wrong()));
    expect(await counter(server, `user:${stranger}`)).toBe(1);
    clock.advance(16 * 60 * 1000);
    expectIncorrectCredentials(await attempt(server, uniqueName("other"), wrong()));
    expect(await counter(server, `user:${stranger}`)).toBeUndefined();
  });
});

describe.each(DIALECTS)("per-address budget (%s)", (dialect) => {
  let direct: TestServer;
  let proxied: TestServer;
  beforeAll(async () => {
    // LOGIN_MAX_FAILURES=2: 2 per username, 20 per address.
    direct = await startTestServer({ dialect, env: { LOGIN_MAX_FAILURES: "2" } });
    proxied = await startTestServer({ dialect, env: { LOGIN_MAX_FAILURES: "2", TRUST_PROXY: "true" } });
  });
  afterAll(async () => {
    await direct?.close();
    await proxied?.close();
  });

  it("M2 one password against many usernames from one address trips the address budget", async () => {
    for (let i = 0; i < 20; i++) expectIncorrectCredentials(await attempt(direct, uniqueName("spray"), "Summer2024!"));
    expectRateLimited(await attempt(direct, uniqueName("spray"), "Summer2024!"));
  });

  it("M2 one username tried from many addresses trips the username budget", async () => {
    const user = await proxied.createUser();
    expectIncorrectCredentials(await attempt(proxied, user.username, wrong(), "203.0.113.1"));
    expectIncorrectCredentials(await attempt(proxied, user.username, wrong(), "203.0.113.2"));
    expectRateLimited(await attempt(proxied, user.username, user.password, "203.0.113.3"));
  });

  it("G12 a spoofed X-Forwarded-For is ignored unless TRUST_PROXY is set", async () => {
    // `direct` spent its 127.0.0.1 budget above; a forged header does not buy a fresh one.
    expectRateLimited(await attempt(direct, uniqueName("spoof"), wrong(), "198.51.100.7"));
    // Behind a trusted proxy each client address has its own budget, and only the proxy's own
    // entry counts: a client-written entry to its left is not believed.
    for (let i = 0; i < 20; i++) expectIncorrectCredentials(await attempt(proxied, uniqueName("spray"), wrong(), `198.51.100.9`));
    expectRateLimited(await attempt(proxied, uniqueName("spray"), wrong(), "198.51.100.9"));
    expectRateLimited(await attempt(proxied, uniqueName("spray"), wrong(), "10.9.9.9, 198.51.100.9"));
    expectIncorrectCredentials(await attempt(proxied, uniqueName("spray"), wrong(), "198.51.100.10"));
  });
});

// M1 (failures over two instances and both doors share one counter): test/integration/two-instances.test.ts.
