/** NODE_ENV as clients see it: Sandbox in development; in production no landing page, no introspection, masked faults. */
import { DIALECTS, startTestServer, type TestServer } from "../harness";

const sandboxRequest = (url: string) => fetch(`${url}/graphql`, { headers: { accept: "text/html" } });

describe.each(DIALECTS)("development (%s)", (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dialect, env: { NODE_ENV: "development" } });
  });
  afterAll(async () => server?.close());

  it("serves Apollo Sandbox at GET /graphql", async () => {
    const response = await sandboxRequest(server.url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await response.text()).toMatch(/embeddable-sandbox/);
  });
});

describe.each(DIALECTS)("production (%s)", (dialect) => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer({ dialect, env: { NODE_ENV: "production" } });
    const user = await server.createUser();
    token = await server.login(user.username, user.password);
  });
  afterAll(async () => server?.close());

  it("serves no landing page at GET /graphql", async () => {
    const response = await sandboxRequest(server.url);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.text()).not.toMatch(/sandbox|<html/i);
  });

  it("refuses introspection", async () => {
    const response = await server.gql("{ __schema { queryType { name } } }");
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: "GRAPHQL_VALIDATION_FAILED" }) }),
    ]);
  });

  it("answers a valid token as usual while the database is up", async () => {
    expect((await server.gql("{ status }", {}, { token })).body).toEqual({ data: { status: "ok" } });
  });

  // The database is closed under the running app: every later request meets a genuine fault, with
  // no test-only switch in the server. A closed database is one that cannot answer, so the
  // answer is the outage's "Service unavailable", still with no detail.
  describe("after the database was closed under it", () => {
    beforeAll(async () => {
      await server.app.database.close();
    });

    it.each([
      ["login", 'mutation { login(username: "someone", password: "whatever") { accessToken } }', undefined],
      ["me with a valid token", "{ me { id } }", "token"],
    ])("answers %s with Service unavailable, with no stack or driver text", async (_label, query, withToken) => {
      const response = await server.gql(query, {}, withToken ? { token } : {});
      expect(response.status).toBeLessThan(500);
      expect(response.body.data).toBeNull();
      expect(response.body.errors).toEqual([
        {
          message: "Service unavailable",
          locations: expect.any(Array),
          path: expect.any(Array),
          extensions: { code: "INTERNAL_SERVER_ERROR", requestId: expect.any(String) },
        },
      ]);
      expect(JSON.stringify(response.body)).not.toMatch(/destroyed|stack|kysely|\n\s+at /i);
    });

    it("answers /readyz with 503 and /healthz still with 200", async () => {
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: "unavailable" });
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok" });
    });
  });
});
