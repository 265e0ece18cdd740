/** ATTACKS.md, GraphQL and HTTP lines (G1-G11; G12 is in rate-limit.test.ts), development and production. */
import { randomUUID } from "node:crypto";
import { capturingLogger, DIALECTS, startTestServer, uniqueName, type GraphQLResponse, type TestServer } from "../harness";

const LOGIN_FIELD = (alias: string, username: string) =>
  `${alias}: login(username: "${username}", password: "wrong-${alias}") { accessToken }`;

function expectValidationError(response: GraphQLResponse, message: string | RegExp): void {
  expect(response.status).toBe(400);
  expect(response.body.data).toBeUndefined();
  const messages = (response.body.errors ?? []).map((e) => e.message);
  expect(messages).toEqual(expect.arrayContaining([typeof message === "string" ? message : expect.stringMatching(message)]));
}

async function post(url: string, body: string, contentType: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": contentType, ...headers }, body });
  const text = await response.text();
  return {
    status: response.status,
    text,
    json: (() => {
      try {
        return JSON.parse(text);
      } catch {
        return undefined;
      }
    })(),
  };
}

describe.each(DIALECTS)("GraphQL and HTTP attacks (%s)", (dialect) => {
  let server: TestServer;
  let batching: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dialect });
    batching = await startTestServer({ dialect, env: { GRAPHQL_BATCHING: "true" } });
  });
  afterAll(async () => {
    await server?.close();
    await batching?.close();
  });
  const attempts = async (s: TestServer, username: string) =>
    Number(
      (
        await s.app.database.db
          .selectFrom("login_attempts")
          .select("attempts")
          .where("key", "=", `user:${username.toLowerCase()}`)
          .executeTakeFirst()
      )?.attempts ?? 0,
    );

  it("G1 100 aliased logins: refused by the alias limit, nothing verified; below it every alias is an attempt", async () => {
    const user = await server.createUser();
    const before = server.app.passwords.completedTasks;
    const hundred = await server.gql(
      `mutation { ${Array.from({ length: 100 }, (_, i) => LOGIN_FIELD(`a${i}`, user.username)).join(" ")} }`,
    );
    expectValidationError(hundred, "Query has 100 aliases; at most 15 are allowed.");
    expect(server.app.passwords.completedTasks).toBe(before);
    expect(await attempts(server, user.username)).toBe(0);

    // Mutation fields run one after another, and a failed non-null login ends the operation, so
    // each request costs exactly the attempts it made; past LOGIN_MAX_FAILURES they are refused.
    const codes: string[] = [];
    for (let request = 0; request < 6; request++) {
      const response = await server.gql(
        `mutation { ${Array.from({ length: 15 }, (_, i) => LOGIN_FIELD(`a${i}`, user.username)).join(" ")} }`,
      );
      expect(response.body.data ?? null).toBeNull();
      codes.push(...(response.body.errors ?? []).map((e) => e.extensions?.code as string));
    }
    expect(codes.filter((c) => c === "UNAUTHENTICATED")).toHaveLength(5);
    expect(codes.slice(5).every((c) => c === "RATE_LIMITED")).toBe(true);
    expect(await attempts(server, user.username)).toBe(codes.length);
  });

  it("G2 a JSON array of 50 operations: 400 Operation batching disabled; with batching on, each operation counts", async () => {
    const user = await server.createUser();
    const ops = Array.from({ length: 50 }, () => ({ query: `mutation { ${LOGIN_FIELD("a", user.username)} }` }));
    const refused = await post(server.url, JSON.stringify(ops), "application/json");
    expect(refused.status).toBe(400);
    expect(refused.json.errors[0]).toMatchObject({ message: "Operation batching disabled.", extensions: { code: "BAD_REQUEST" } });
    expect(await attempts(server, user.username)).toBe(0);

    const target = await batching.createUser();
    const batch = await post(
      batching.url,
      JSON.stringify(Array.from({ length: 10 }, () => ({ query: `mutation { ${LOGIN_FIELD("a", target.username)} }` }))),
      "application/json",
    );
    expect(batch.status).toBe(200);
    const codes = (batch.json as Array<{ errors: Array<{ extensions: { code: string } }> }>).map((r) => r.errors[0]!.extensions.code);
    expect(codes.filter((c) => c === "UNAUTHENTICATED")).toHaveLength(5);
    expect(codes.filter((c) => c === "RATE_LIMITED")).toHaveLength(5);
    expect(await attempts(batching, target.username)).toBe(10);
  });

  it("G3 fragment cycles: a validation error; a fragment fan-out: merged or refused, never a 5xx", async () => {
    expectValidationError(
      await server.gql("{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }"),
      /Cannot spread fragment "A" within itself/,
    );
    let fanOut = "{ me { ...F0 } }";
    for (let i = 0; i < 30; i++) fanOut += ` fragment F${i} on User { ...F${i + 1} ...F${i + 1} }`;
    fanOut += " fragment F30 on User { id }";
    const merged = await server.gql(fanOut);
    expect(merged.status).toBe(200);
    expect(merged.body.errors?.[0]?.message).toBe("Not authenticated");
    let aliased = "{ me { ...F0 } }";
    for (let i = 0; i < 30; i++) aliased += ` fragment F${i} on User { a: id ...F${i + 1} b: id ...F${i + 1} }`;
    aliased += " fragment F30 on User { id }";
    expectValidationError(await server.gql(aliased), /^Query has \d+ aliases; at most 15 are allowed\.$/);
  });

  it("G4 depth over 10: a validation error; introspection passes the limits in development", async () => {
    const deep = `{ me { ${"a { ".repeat(10)}b${" }".repeat(10)} } }`;
    expectValidationError(await server.gql(deep), "Query is 12 levels deep; at most 10 are allowed.");
    const introspection = await server.gql(
      "{ __schema { types { name fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } }",
    );
    expect(introspection.status).toBe(200);
    expect(introspection.body.data.__schema.types.length).toBeGreaterThan(0);
  });

  it("G5 10,000 repeated fields, 10,000 directives, a 1 MB query: 4xx from the token, directive or size limits", async () => {
    const fields = await server.gql(`{ me { ${"id ".repeat(10_000)}} }`);
    expect(fields.status).toBe(400);
    expect(fields.body.errors?.[0]?.message).toMatch(/Document contains more tha[nt] 2000 tokens/);
    // 10,000 directives in 30 kB: within the body limit, so the token limit refuses them.
    const directives = await server.gql(`{ me ${"@a ".repeat(10_000)}{ id } }`);
    expect(directives.status).toBe(400);
    expect(directives.body.errors?.[0]?.message).toMatch(/Document contains more tha[nt] 2000 tokens/);
    const someDirectives = await server.gql(`{ me { ${Array.from({ length: 60 }, (_, i) => `f${i}: id @include(if: true)`).join(" ")} } }`);
    expectValidationError(someDirectives, "Query has 60 directives; at most 50 are allowed.");
    const huge = await post(server.url, JSON.stringify({ query: `{ me { id } } # ${"x".repeat(1024 * 1024)}` }), "application/json");
    expect(huge.status).toBe(413);
    expect(huge.json).toMatchObject({ error: expect.any(String), message: expect.any(String) });
  });

  it("G6 CSRF: GET mutations refused, preflight-less GETs and simple-content-type POSTs blocked", async () => {
    const user = await server.createUser();
    const mutation = encodeURIComponent(`mutation { ${LOGIN_FIELD("a", user.username)} }`);
    const getMutation = await fetch(`${server.url}/graphql?query=${mutation}`, { headers: { "apollo-require-preflight": "true" } });
    expect(getMutation.status).toBe(405);
    expect(((await getMutation.json()) as any).errors[0].message).toMatch(/^GET requests only support query operations/);
    const simpleGet = await fetch(`${server.url}/graphql?query=${encodeURIComponent("{ status }")}`);
    expect(simpleGet.status).toBe(400);
    expect(await simpleGet.text()).toMatch(/Cross-Site Request Forgery/);
    const body = JSON.stringify({ query: `mutation { ${LOGIN_FIELD("a", user.username)} }` });
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const response = await post(server.url, body, contentType);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.json).toBeDefined();
    }
    expect(await attempts(server, user.username)).toBe(0);
  });

  it("G7 malformed JSON, a wrong content type, an oversized body: 4xx with a JSON body, no stack", async () => {
    for (const [body, type] of [
      ['{"query": "{ status }"', "application/json"],
      ["{ status }", "application/xml"],
      [JSON.stringify({ query: "{ status }", pad: "x".repeat(100_000) }), "application/json"],
    ] as const) {
      const response = await post(server.url, body, type);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.json).toBeDefined();
      expect(response.text).not.toMatch(/\bat .*\.(js|ts):\d+/);
    }
  });

  it("G8 a variable of the wrong type: 400", async () => {
    const response = await server.gql('mutation ($p: String!) { login(username: "x", password: $p) { accessToken } }', { p: 1 });
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("G10 { status me } with a token lacking scope me: the error sits on me, and null propagation nulls data", async () => {
    const user = await server.createUser({ scopes: ["items"] });
    const token = await server.login(user.username, user.password);
    const response = await server.gql("{ status me { id } }", {}, { token });
    expect(response.body.data).toBeNull();
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors?.[0]).toMatchObject({ message: "Not enough permissions", path: ["me"], extensions: { code: "FORBIDDEN" } });
  });

  it("G11 wrong argument types without a token: schema validation answers before any auth check", async () => {
    const response = await server.gql("{ me(id: 1) { id } }");
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(response.body.errors?.map((e) => e.message).join(" ")).not.toContain("Not authenticated");
  });
});

describe.each(DIALECTS)("production mode (%s)", (dialect) => {
  let production: TestServer;
  let development: TestServer;
  const log = capturingLogger("info");
  beforeAll(async () => {
    production = await startTestServer({ dialect, env: { NODE_ENV: "production" }, logger: log.logger });
    development = await startTestServer({ dialect, env: { NODE_ENV: "development" } });
  });
  afterAll(async () => {
    await production?.close();
    await development?.close();
  });

  it("G4 introspection refused in production, aliased too; suggestions hidden; both on in development", async () => {
    for (const query of [
      "{ __schema { types { name } } }",
      '{ __type(name: "User") { name } }',
      "{ s: __schema { queryType { name } } }",
      '{ t: __type(name: "Query") { name } }',
    ]) {
      const response = await production.gql(query);
      expect(response.status).toBe(400);
      expect(response.body.errors?.[0]?.message).toMatch(/introspection is not allowed/);
      expect(response.body.data).toBeUndefined();
    }
    const typo = await production.gql("{ mee { id } }");
    expect(typo.body.errors?.[0]?.message).toBe('Cannot query field "mee" on type "Query".');
    expect((await development.gql("{ mee { id } }")).body.errors?.[0]?.message).toMatch(/Did you mean "me"\?/);
    expect((await development.gql("{ __schema { queryType { name } } }")).body.data).toEqual({
      __schema: { queryType: { name: "Query" } },
    });
  });

  it("no landing page in production; Apollo Sandbox at GET /graphql in development", async () => {
    const prod = await fetch(`${production.url}/graphql`, { headers: { accept: "text/html" } });
    expect(prod.status).toBeGreaterThanOrEqual(400);
    expect(await prod.text()).not.toMatch(/<html/i);
    const dev = await fetch(`${development.url}/graphql`, { headers: { accept: "text/html" } });
    expect(dev.status).toBe(200);
    expect(await dev.text()).toMatch(/<html/i);
  });

  it("G9 an unexpected failure in production: Internal server error with a request id that the log line carries, no stack, no SQL", async () => {
    const user = await production.createUser();
    const token = await production.login(user.username, user.password);
    const tableName = `users_gone_${randomUUID().slice(0, 8)}`;
    await production.app.database.db.schema.alterTable("users").renameTo(tableName).execute();
    try {
      const response = await production.gql("{ me { id } }", {}, { token });
      expect(response.status).toBe(200);
      const error = response.body.errors?.[0];
      expect(error).toMatchObject({
        message: "Internal server error",
        extensions: { code: "INTERNAL_SERVER_ERROR", requestId: expect.any(String) },
      });
      const text = JSON.stringify(response.body);
      expect(text).not.toMatch(/stacktrace|select|users|sqlite|relation/i);
      const requestId = error!.extensions!.requestId as string;
      const logged = log
        .lines()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { requestId?: string; msg?: string; err?: { message?: string } })
        .filter((line) => line.requestId === requestId && line.msg === "unexpected error in a GraphQL request");
      // Under jest, better-sqlite3's native binding keeps the SqliteError class of the first test file
      // that loaded it in this worker, so in later files the error may come from another realm and
      // graphql-js describes it as a value ("Unexpected error value: { code: "SQLITE_ERROR" }").
      expect(logged.map((line) => line.err?.message)).toEqual([
        expect.stringMatching(/no such table: users|relation "users" does not exist|SQLITE_ERROR/),
      ]);

      // Development keeps the helpful message.
      const devUser = await development.createUser({ prefix: uniqueName("dev") });
      const devToken = await development.login(devUser.username, devUser.password);
      await development.app.database.db.schema.alterTable("users").renameTo(tableName).execute();
      try {
        const dev = await development.gql("{ me { id } }", {}, { token: devToken });
        expect(dev.body.errors?.[0]?.message).not.toBe("Internal server error");
        expect(dev.body.errors?.[0]?.message).toMatch(/users|SQLITE_ERROR/);
      } finally {
        await development.app.database.db.schema.alterTable(tableName).renameTo("users").execute();
      }
    } finally {
      await production.app.database.db.schema.alterTable(tableName).renameTo("users").execute();
    }
  });
});
