/** Property-based attacks (fast-check): never a 5xx, never a crash, never a token for wrong credentials. */
import fc from "fast-check";
import { DIALECTS, startTestServer, type TestServer } from "../harness";

const LOGIN = "mutation ($u: String!, $p: String!, $s: [String!]) { login(username: $u, password: $p, scopes: $s) { accessToken } }";

describe.each(DIALECTS)("property: hostile input never breaks the server (%s)", (dialect) => {
  let server: TestServer;
  let user: { username: string; password: string };
  beforeAll(async () => {
    // The budget is raised so that the limiter does not end the exploration early; RATE_LIMITED
    // is still an acceptable answer below.
    server = await startTestServer({ dialect, env: { LOGIN_MAX_FAILURES: "1000" } });
    user = await server.createUser();
  });
  afterAll(async () => server?.close());

  const healthy = async () => expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

  it("login with arbitrary arguments: no 5xx, and a token only for the right password", async () => {
    const text = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: "grapheme", maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 40 }),
    );
    const username = fc.oneof(
      text,
      fc.constantFrom(user.username, user.username.toUpperCase(), ` ${user.username}\t`, "", `${user.username}\u0000`, "\u0000"),
    );
    const password = fc.oneof(
      text,
      fc.constantFrom(`${user.password} `, user.password.toUpperCase(), `${user.password}\u0000`, user.password.slice(1), ""),
      fc.string({ minLength: 1000, maxLength: 1100 }),
    );
    const scopes = fc.option(fc.array(fc.oneof(text, fc.constantFrom("me", "items", "admin")), { maxLength: 4 }), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(username, password, scopes, async (u, p, s) => {
        const response = await server.gql(LOGIN, { u, p, s });
        expect(response.status).toBeLessThan(500);
        const token = response.body.data?.login?.accessToken;
        if (token !== undefined) expect(p.normalize("NFKC")).toBe(user.password);
        for (const error of response.body.errors ?? []) expect(error.extensions?.code).not.toBe("INTERNAL_SERVER_ERROR");
      }),
      { numRuns: 50 },
    );
    await healthy();
  });

  it("me with arbitrary Authorization headers: no 5xx, never data without a valid token", async () => {
    const valid = await server.login(user.username, user.password);
    const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 300 });
    const header = fc.oneof(
      printable,
      printable.map((t) => `Bearer ${t}`),
      fc.constantFrom(
        `Bearer ${valid}x`,
        `Bearer ${valid.slice(0, -2)}`,
        `Bearer ${valid.split(".").reverse().join(".")}`,
        `Bearer ${valid.replace(/\./g, "..")}`,
      ),
      fc
        .tuple(fc.nat({ max: valid.length - 1 }), fc.constantFrom(..."aAzZ09-_.=+/ "))
        .map(([i, c]) => `Bearer ${valid.slice(0, i)}${c}${valid.slice(i + 1)}`),
    );
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        const response = await fetch(`${server.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization },
          body: JSON.stringify({ query: "{ me { id } }" }),
        });
        expect(response.status).toBeLessThan(500);
        const body = (await response.json()) as { data?: { me?: unknown }; errors?: Array<{ extensions?: { code?: string } }> };
        if (body.data?.me) expect(authorization.trim().replace(/^bearer\s+/i, "")).toBe(valid);
        for (const error of body.errors ?? []) expect(error.extensions?.code).not.toBe("INTERNAL_SERVER_ERROR");
      }),
      { numRuns: 60 },
    );
    await healthy();
  });

  it("arbitrary me queries: no 5xx", async () => {
    const token = await server.login(user.username, user.password);
    const piece = fc.constantFrom(
      "me",
      "{",
      "}",
      "id",
      "username",
      "scopes",
      "...",
      "on",
      "User",
      "fragment",
      "F",
      "a:",
      "@include(if: true)",
      "__typename",
      "(",
      ")",
      "$x",
      "query",
      "mutation",
      "status",
      "myItems",
      "#",
      '"',
      "\\u0000",
    );
    const query = fc.array(piece, { maxLength: 40 }).map((parts) => parts.join(" "));
    await fc.assert(
      fc.asyncProperty(query, fc.boolean(), async (q, withToken) => {
        const response = await server.gql(q, {}, withToken ? { token } : {});
        expect(response.status).toBeLessThan(500);
        for (const error of response.body.errors ?? []) expect(error.extensions?.code).not.toBe("INTERNAL_SERVER_ERROR");
      }),
      { numRuns: 60 },
    );
    await healthy();
  });
});
