/** ATTACKS H10: a scope outside RFC 6749 section 3.3 is refused with a fixed message on every door, and nothing of it is echoed. */
import { loginPair, postToken } from "../support";
import { capturingLogger, DIALECTS, startTestServer, type TestServer } from "../harness";

const LOGIN = "mutation ($u: String!, $p: String!, $s: [String!]) { login(username: $u, password: $p, scopes: $s) { scope } }";
/** Text that must never come back: it is in every hostile scope below. */
const MARKER = "zq9marker";
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** Scopes that break the grammar: control characters, a 60 kB token, separators other than one U+0020. */
const HOSTILE: ReadonlyArray<readonly [string, string]> = [
  ["a BEL", `me ${MARKER}\u0007`],
  ["an ANSI escape", `me \u001b[2J${MARKER}`],
  ["a newline", `me\n${MARKER}`],
  ["a tab separator", `me\t${MARKER}`],
  ["an NBSP separator", `me\u00a0${MARKER}`],
  ["a U+3000 separator", `me\u3000${MARKER}`],
  ["60 kB", `me ${MARKER}${"a".repeat(60_000)}`],
];

describe.each(DIALECTS)("scope grammar (%s)", (dialect) => {
  let server: TestServer;
  const log = capturingLogger("debug");
  /** Password computations a request cost, from the password service's own count. */
  const computations = async <T>(request: () => Promise<T>): Promise<{ result: T; count: number }> => {
    const before = server.app.passwords.completedTasks;
    const result = await request();
    return { result, count: server.app.passwords.completedTasks - before };
  };

  beforeAll(async () => {
    server = await startTestServer({ dialect, logger: log.logger, env: { LOGIN_MAX_FAILURES: "1000" } });
  });
  afterAll(async () => server?.close());

  it.each(HOSTILE)(
    "H10: POST /token password grant with %s in scope: invalid_scope, a fixed description, nothing echoed, nothing hashed",
    async (_what, scope) => {
      const user = await server.createUser();
      const logged = log.lines().length;
      const { result: response, count } = await computations(() =>
        postToken(server, form({ grant_type: "password", username: user.username, password: user.password, scope })),
      );
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: "invalid_scope", error_description: "Invalid scope" });
      expect(response.headers.get("cache-control")).toBe("no-store");
      // Refused on its grammar, before the password is verified or the attempt counted.
      expect(count).toBe(0);
      expect(log.lines().slice(logged)).not.toContain(MARKER);
    },
  );

  it("H10: POST /token refresh grant with a malformed scope: invalid_scope, fixed, and the refresh token is not spent", async () => {
    const user = await server.createUser();
    const pair = await loginPair(server, user.username, user.password);
    for (const [, scope] of HOSTILE) {
      const response = await postToken(server, form({ grant_type: "refresh_token", refresh_token: pair.refreshToken, scope }));
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: "invalid_scope", error_description: "Invalid scope" });
    }
    const narrowed = await postToken(server, form({ grant_type: "refresh_token", refresh_token: pair.refreshToken, scope: "me" }));
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe("me");
  });

  it("H10: POST /token with a well-formed scope the account lacks: a fixed description that names nothing", async () => {
    const user = await server.createUser();
    const response = await postToken(
      server,
      form({ grant_type: "password", username: user.username, password: user.password, scope: `me ${MARKER}` }),
    );
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: "invalid_scope", error_description: "Scope not available to this account" });
    const pair = await loginPair(server, user.username, user.password, ["me"]);
    const wider = await postToken(server, form({ grant_type: "refresh_token", refresh_token: pair.refreshToken, scope: `me ${MARKER}` }));
    expect(wider.body).toEqual({ error: "invalid_scope", error_description: "Scope not granted to this refresh token" });
  });

  it.each(HOSTILE)(
    'H10: GraphQL login with %s in scopes: BAD_USER_INPUT "Invalid scope", nothing echoed, nothing hashed',
    async (_what, scope) => {
      const user = await server.createUser();
      const logged = log.lines().length;
      for (const scopes of [[scope], ["me", scope]]) {
        const { result: response, count } = await computations(() => server.gql(LOGIN, { u: user.username, p: user.password, s: scopes }));
        expect(response.body.errors).toHaveLength(1);
        expect(response.body.errors?.[0]).toMatchObject({ message: "Invalid scope", extensions: { code: "BAD_USER_INPUT" } });
        expect(response.body.data ?? null).toBeNull();
        expect(JSON.stringify(response.body)).not.toContain(MARKER);
        expect(count).toBe(0);
      }
      expect(log.lines().slice(logged)).not.toContain(MARKER);
    },
  );

  it("H10: GraphQL login with thousands of scope entries: refused by the length bound", async () => {
    const user = await server.createUser();
    const response = await server.gql(LOGIN, { u: user.username, p: user.password, s: Array.from({ length: 5_000 }, () => "me") });
    expect(response.body.errors?.[0]).toMatchObject({ message: "Invalid scope", extensions: { code: "BAD_USER_INPUT" } });
  });

  it("H10: no error_description of /token echoes the request, whatever its shape", async () => {
    const user = await server.createUser();
    const requests: Array<{ body: string; contentType?: string }> = [
      { body: form({ grant_type: "password", username: user.username, password: user.password, scope: `${MARKER}\u0007` }) },
      { body: form({ grant_type: "password", username: user.username, password: user.password, scope: `me ${MARKER}` }) },
      { body: form({ grant_type: `${MARKER}\u001b[2J` }) },
      { body: form({ grant_type: "password", username: `${MARKER}\u0000`, password: MARKER }) },
      { body: form({ grant_type: "refresh_token", refresh_token: MARKER, scope: MARKER }) },
      { body: `grant_type=password&username=${MARKER}&username=${MARKER}&password=x` },
      { body: `grant_type=password&${MARKER}=1&${MARKER}=2` },
      { body: form({ grant_type: "password" }), contentType: `text/${MARKER}` },
      { body: `{"grant_type":"${MARKER}"}`, contentType: "application/json" },
    ];
    for (const { body, contentType } of requests) {
      const response = await postToken(server, body, { contentType });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect({ body, description: String(response.body.error_description) }).not.toEqual({
        body,
        description: expect.stringContaining(MARKER),
      });
      expect(response.body.error_description).not.toMatch(/\p{Cc}/u);
    }
  });

  it("legal scope requests still work alike on both doors: one space, repeats, a joined string (P11, unchanged)", async () => {
    const user = await server.createUser();
    for (const [scopes, granted] of [
      [["me items"], "me items"],
      [["me", "items", "me"], "me items"],
      [["items me", "me"], "items me"],
    ] as const) {
      const response = await server.gql(LOGIN, { u: user.username, p: user.password, s: scopes });
      expect(response.body.data?.login.scope).toBe(granted);
    }
    const response = await postToken(
      server,
      form({ grant_type: "password", username: user.username, password: user.password, scope: "me items me" }),
    );
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe("me items");
  });
});
