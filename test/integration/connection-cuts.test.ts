/**
 * Finding 13 in-process: a PostgreSQL connection cut in the middle of a query or a transaction fails
 * that work as an outage, never the process.
 */
import { Client } from "pg";
import {
  capturingLogger,
  createTestDatabase,
  DIALECTS,
  PG_ADMIN_URL,
  startTestServer,
  uniqueName,
  type TestDatabase,
  type TestServer,
} from "../harness";
import { createTcpProxy, type TcpProxy } from "../tcp-proxy";
import { createDb, type DatabaseHandle } from "../../src/db/database";
import { isDatabaseUnavailable } from "../../src/db/faults";
import { migrateToLatest } from "../../src/db/migrate";
import { UserStore } from "../../src/users/user.store";

const describePostgres = DIALECTS.includes("postgres") ? describe : describe.skip;
// Trust auth accepts any password: one in the URL lets the tests check it never reaches a log line.
const URL_PASSWORD = "pw-in-the-url-7f3a";
const BROKEN = "a database connection failed; it is dropped and the next query opens a fresh one";

function withPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = URL_PASSWORD;
  return parsed.toString();
}

async function caught(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

async function until(check: () => boolean | Promise<boolean>, what: string, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The warn lines about broken connections, parsed. */
function brokenLines(text: string): Array<{ err: { code?: string; message: string } }> {
  return text
    .split("\n")
    .filter((line) => line.includes(BROKEN))
    .map((line) => JSON.parse(line));
}

const newUser = (username: string) => ({ username, passwordHash: "$argon2id$unused", scopes: ["me"] });

describePostgres("finding 13: a connection cut mid-query (store level)", () => {
  const target = new URL(PG_ADMIN_URL);
  let database: TestDatabase;
  let proxy: TcpProxy;
  let handle: DatabaseHandle;
  let users: UserStore;
  const logs = capturingLogger("info");
  beforeAll(async () => {
    database = await createTestDatabase("postgres");
    proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 5432) }, { open: true });
    handle = createDb(withPassword(proxy.urlFor(database.url)), { logger: logs.logger });
    await migrateToLatest(handle.db);
    users = new UserStore(handle.db);
  });
  afterAll(async () => {
    await handle?.close();
    await proxy?.close();
    await database?.drop();
  });
  afterEach(async () => {
    await proxy.open();
  });

  it("finding 13: a query in flight when its socket is cut rejects as an outage; one warn line; the next query gets a fresh connection", async () => {
    await users.countUsers();
    const before = brokenLines(logs.lines()).length;
    proxy.stall();
    const pending = caught(() => users.findUserByUsername("nobody"));
    await until(() => proxy.heldConnections() > 0, "the query to be in flight");
    await proxy.close();
    const error = await pending;
    expect(isDatabaseUnavailable(error)).toBe(true);

    await proxy.open();
    // Had the broken client gone back to the pool, this would fail with "not queryable".
    expect(await users.countUsers()).toBe(0);
    const lines = brokenLines(logs.lines()).slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.err.message).toMatch(/^Connection terminated unexpectedly$|ECONNRESET/);
    expect(logs.lines()).not.toContain(URL_PASSWORD);
  });

  it("finding 13: a transaction whose connection is cut between statements rolls back and rejects as an outage", async () => {
    const first = uniqueName("cutbetween");
    const error = await caught(() =>
      users.transaction(async (store) => {
        await store.createUser(newUser(first));
        // The client is checked out and idle: no query of pg's to fail, only the 'error' event.
        const reported = brokenLines(logs.lines()).length;
        await proxy.close();
        await until(() => brokenLines(logs.lines()).length > reported, "the connection's error to be reported");
        await store.createUser(newUser(uniqueName("cutbetween")));
      }),
    );
    expect(isDatabaseUnavailable(error)).toBe(true);

    await proxy.open();
    expect(await users.findUserByUsername(first)).toBeUndefined();
    expect(await users.countUsers()).toBe(0);
  });

  it("finding 13: a transaction whose statement is in flight when the socket is cut rolls back and rejects as an outage", async () => {
    const first = uniqueName("cutinflight");
    const error = await caught(() =>
      users.transaction(async (store) => {
        await store.createUser(newUser(first));
        proxy.stall();
        const second = store.createUser(newUser(uniqueName("cutinflight")));
        await until(() => proxy.heldConnections() > 0, "the second statement to be in flight");
        await proxy.close();
        await second;
      }),
    );
    expect(isDatabaseUnavailable(error)).toBe(true);

    await proxy.open();
    expect(await users.findUserByUsername(first)).toBeUndefined();
    expect(logs.lines()).not.toContain(URL_PASSWORD);
  });
});

describePostgres("finding 13: start-up and /readyz with a connection cut mid-query", () => {
  const target = new URL(PG_ADMIN_URL);
  let database: TestDatabase;
  let proxy: TcpProxy;
  let locker: Client;
  let server: TestServer;
  const logs = capturingLogger("info");
  beforeAll(async () => {
    database = await createTestDatabase("postgres");
    proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 5432) }, { open: true });
    // Holds the advisory lock Kysely's migrator takes, so the server's start-up migration is
    // certainly waiting inside a transaction (a checked-out client) when the line is cut.
    locker = new Client({ connectionString: database.url });
    await locker.connect();
    await locker.query("SELECT pg_advisory_lock(3853314791062309107)");
    server = await startTestServer({ databaseUrl: withPassword(proxy.urlFor(database.url)), logger: logs.logger, waitForDatabase: false });
  });
  afterAll(async () => {
    await server?.close();
    await locker?.end();
    await proxy?.close();
    await database?.drop();
  });

  const readyz = async () => (await fetch(`${server.url}/readyz`)).status;

  it("finding 13: a start-up migration cut while it runs is retried, /readyz says 503 meanwhile, and the server becomes ready", async () => {
    await until(async () => {
      const { rows } = await locker.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      );
      return rows[0].n > 0;
    }, "the migration to wait on the lock");
    await proxy.close();
    await until(() => logs.lines().includes("database not ready"), "start-up to report the failed attempt");
    expect(await readyz()).toBe(503);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    await proxy.open();
    await locker.query("SELECT pg_advisory_unlock(3853314791062309107)");
    await server.app.databaseReady;
    expect(await readyz()).toBe(200);
  });

  it("finding 13: /readyz, GraphQL and /token whose queries are in flight when the line is cut answer 503 / Service unavailable, then 200", async () => {
    await server.app.databaseReady;
    const { username, password } = await server.createUser();
    const token = await server.login(username, password);
    expect(await readyz()).toBe(200);

    proxy.stall();
    const probe = fetch(`${server.url}/readyz`);
    const me = server.gql("{ me { username } }", {}, { token });
    const viaToken = fetch(`${server.url}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", username, password }).toString(),
    });
    await until(() => proxy.heldConnections() >= 3, "three queries in flight");
    await proxy.close();

    expect((await probe).status).toBe(503);
    const meAnswer = await me;
    expect(meAnswer.status).toBe(200);
    expect(meAnswer.body.errors).toHaveLength(1);
    expect(meAnswer.body.errors?.[0]).toMatchObject({ message: "Service unavailable", extensions: { code: "INTERNAL_SERVER_ERROR" } });
    const tokenAnswer = await viaToken;
    expect({ status: tokenAnswer.status, body: await tokenAnswer.json() }).toEqual({
      status: 503,
      body: { error: "temporarily_unavailable", error_description: "Service unavailable" },
    });

    await proxy.open();
    await until(async () => (await readyz()) === 200, "/readyz to answer 200 again");
    expect((await server.gql("{ me { username } }", {}, { token })).body).toEqual({ data: { me: { username } } });
    expect(logs.lines()).not.toContain(URL_PASSWORD);
    expect(logs.lines()).not.toContain(password);
  });
});
