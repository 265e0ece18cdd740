/** PostgreSQL faults against the real server: connections killed, the database unreachable at start and while serving. */
import { Client } from "pg";
import {
  capturingLogger,
  createTestDatabase,
  DIALECTS,
  PG_ADMIN_URL,
  startTestServer,
  type GraphQLResponse,
  type TestDatabase,
  type TestServer,
} from "../harness";
import { createTcpProxy, type TcpProxy } from "../tcp-proxy";

const describePostgres = DIALECTS.includes("postgres") ? describe : describe.skip;
const ME = "{ me { username } }";

function expectServiceUnavailable(response: GraphQLResponse): void {
  expect(response.status).toBe(200);
  expect(response.body.errors).toHaveLength(1);
  expect(response.body.errors?.[0]).toMatchObject({ message: "Service unavailable", extensions: { code: "INTERNAL_SERVER_ERROR" } });
  expect(JSON.stringify(response.body)).not.toMatch(/stacktrace|ECONNREFUSED|terminat|postgres/i);
}

/** POST /token with the password grant: the OAuth door to the same login. */
async function tokenEndpoint(
  server: TestServer,
  username: string,
  password: string,
): Promise<{ status: number; body: any; cacheControl: string | null }> {
  const response = await fetch(`${server.url}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "password", username, password }).toString(),
  });
  return { status: response.status, body: await response.json(), cacheControl: response.headers.get("cache-control") };
}

function expectTokenEndpointUnavailable(answer: { status: number; body: any; cacheControl: string | null }): void {
  expect(answer).toEqual({
    status: 503,
    body: { error: "temporarily_unavailable", error_description: "Service unavailable" },
    cacheControl: "no-store",
  });
}

async function readyz(server: TestServer): Promise<number> {
  return (await fetch(`${server.url}/readyz`)).status;
}

/**
 * Sends `me` until it succeeds, at most `attempts` times. A request that meets a connection the
 * database has just dropped may fail, but only with the clean Service unavailable answer.
 */
async function meRecovers(server: TestServer, token: string, attempts = 5): Promise<GraphQLResponse> {
  for (let i = 1; ; i += 1) {
    const response = await server.gql(ME, {}, { token });
    if (!response.body.errors || i === attempts) return response;
    expectServiceUnavailable(response);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function until(check: () => Promise<boolean>, what: string, attempts = 100): Promise<void> {
  for (let i = 0; i < attempts; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describePostgres("PostgreSQL faults", () => {
  const target = new URL(PG_ADMIN_URL);
  const targetAddress = { host: target.hostname, port: Number(target.port || 5432) };

  describe("connections terminated mid-run", () => {
    let database: TestDatabase;
    let server: TestServer;
    const logs = capturingLogger("info");
    beforeAll(async () => {
      database = await createTestDatabase("postgres");
      server = await startTestServer({ databaseUrl: database.url, logger: logs.logger });
    });
    afterAll(async () => {
      await server?.close();
      await database?.drop();
    });

    it("answers the request whose connection was killed with Service unavailable, then serves again", async () => {
      const { username, password } = await server.createUser();
      const token = await server.login(username, password);

      // Hold a lock on users so the app's next query is certainly in flight when it is killed.
      const locker = new Client({ connectionString: database.url });
      await locker.connect();
      try {
        await locker.query("BEGIN");
        await locker.query("LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
        const pending = server.gql(ME, {}, { token });
        await until(async () => {
          // Inside a transaction PostgreSQL keeps the statistics snapshot of its first read
          // (stats_fetch_consistency = cache): without clearing it, a first poll made before the
          // app's query waits would be answered again and again until the wait times out.
          await locker.query("SELECT pg_stat_clear_snapshot()");
          const { rows } = await locker.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
          );
          return rows[0].n > 0;
        }, "the app's query to wait on the lock");
        await locker.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
        );
        expectServiceUnavailable(await pending);
      } finally {
        await locker.query("ROLLBACK").catch(() => undefined);
        await locker.end();
      }

      const recovered = await meRecovers(server, token);
      expect(recovered.body).toEqual({ data: { me: { username } } });
      expect(await readyz(server)).toBe(200);
    });

    it("survives every pooled connection being terminated while idle (no crash, no restart)", async () => {
      const { username, password } = await server.createUser();
      const token = await server.login(username, password);
      const admin = new Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      try {
        const { rows } = await admin.query(
          "SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()) AS killed",
          [new URL(database.url).pathname.slice(1)],
        );
        expect(rows[0].n).toBeGreaterThan(0);
      } finally {
        await admin.end();
      }
      // Each death arrives as an 'error' on an idle client: logged, not thrown.
      await until(
        async () => logs.lines().includes("a database connection failed; it is dropped"),
        "the pool to report the dropped connection",
      );

      const recovered = await meRecovers(server, token);
      expect(recovered.body).toEqual({ data: { me: { username } } });
    });
  });

  describe("database unreachable at start", () => {
    let database: TestDatabase;
    let proxy: TcpProxy;
    let server: TestServer;
    const logs = capturingLogger("info");
    beforeAll(async () => {
      // A fresh database: the one unreachable at start is migrated only once it answers.
      database = await createTestDatabase("postgres");
      proxy = await createTcpProxy(targetAddress, { open: false });
      server = await startTestServer({ databaseUrl: proxy.urlFor(database.url), logger: logs.logger, waitForDatabase: false });
    });
    afterAll(async () => {
      await server?.close();
      await proxy?.close();
      await database?.drop();
    });

    it("serves /healthz, fails /readyz and answers GraphQL cleanly until the database answers, then works", async () => {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect(await readyz(server)).toBe(503);
      expectServiceUnavailable(await server.gql('mutation { login(username: "nobody", password: "whatever1") { accessToken } }'));
      expectServiceUnavailable(await server.gql(ME, {}, { token: "not.a.token" }));
      expectTokenEndpointUnavailable(await tokenEndpoint(server, "nobody", "whatever1"));

      // Start-up keeps retrying in the background instead of giving up.
      await until(async () => (logs.lines().match(/database not ready/g) ?? []).length >= 2, "two failed start-up attempts");
      expect(await readyz(server)).toBe(503);

      await proxy.open();
      await server.app.databaseReady;
      expect(await readyz(server)).toBe(200);
      const { username, password } = await server.createUser();
      const token = await server.login(username, password);
      expect((await server.gql(ME, {}, { token })).body).toEqual({ data: { me: { username } } });
      expect((await tokenEndpoint(server, username, password)).status).toBe(200);
    });
  });

  describe("database unreachable while serving", () => {
    let database: TestDatabase;
    let proxy: TcpProxy;
    let server: TestServer;
    beforeAll(async () => {
      // A fresh database: the one unreachable at start is migrated only once it answers.
      database = await createTestDatabase("postgres");
      proxy = await createTcpProxy(targetAddress, { open: true });
      server = await startTestServer({ databaseUrl: proxy.urlFor(database.url) });
    });
    afterAll(async () => {
      await server?.close();
      await proxy?.close();
      await database?.drop();
    });

    it("answers Service unavailable and /readyz 503 while it is gone, and recovers by itself", async () => {
      const { username, password } = await server.createUser();
      const token = await server.login(username, password);

      await proxy.close();
      expectServiceUnavailable(await server.gql(ME, {}, { token }));
      expectServiceUnavailable(
        await server.gql("mutation L($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }", {
          u: username,
          p: password,
        }),
      );
      expectTokenEndpointUnavailable(await tokenEndpoint(server, username, password));
      expect(await readyz(server)).toBe(503);

      await proxy.open();
      await until(async () => (await readyz(server)) === 200, "/readyz to answer 200 again");
      const recovered = await meRecovers(server, token);
      expect(recovered.body).toEqual({ data: { me: { username } } });
      expect(await server.login(username, password)).toEqual(expect.any(String));
    });
  });
});
