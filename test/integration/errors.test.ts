/**
 * CONTRACT section 3's error table for login, me, myItems and status, with WWW-Authenticate and header
 * shapes (ATTACKS J1-J3, J19's challenge).
 */
import { DIALECTS, startTestServer, type TestServer } from "../harness";
import { expectInvalidToken, ME, rawGraphQL } from "../support";

const LOGIN =
  "mutation Login($u: String!, $p: String!, $s: [String!]) { login(username: $u, password: $p, scopes: $s) { accessToken scope } }";

describe.each(DIALECTS)("error table (%s)", (dialect) => {
  let server: TestServer;
  let user: { id: string; username: string; password: string };
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({ dialect });
    user = await server.createUser();
    token = await server.login(user.username, user.password);
  });
  afterAll(async () => server?.close());

  describe("no Authorization: Bearer header", () => {
    it.each(["{ me { id } }", "{ myItems { itemId } }", "{ status }"])(
      "J1 answers %s with UNAUTHENTICATED Not authenticated and a bare Bearer challenge",
      async (query) => {
        const response = await server.gql(query);
        expect(response.body.errors).toEqual([
          expect.objectContaining({ message: "Not authenticated", extensions: { code: "UNAUTHENTICATED" } }),
        ]);
        expect(response.headers.get("www-authenticate")).toBe("Bearer");
      },
    );

    it("J2 treats another scheme (Basic) as no bearer credential at all", async () => {
      const response = await server.gql(ME, {}, { headers: { authorization: "Basic am9obmRvZTpzZWNyZXQ=" } });
      expect(response.body.errors).toEqual([
        expect.objectContaining({ message: "Not authenticated", extensions: { code: "UNAUTHENTICATED" } }),
      ]);
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
    });
  });

  describe("a bearer credential that cannot be used", () => {
    it.each([
      ["Bearer with no value", "Bearer"],
      ["Bearer and one space", "Bearer "],
      ["Bearer and spaces only", "Bearer    "],
      ["Bearer a b", "Bearer a b"],
      ["a garbage token", "Bearer garbage"],
    ])("J2 answers %s with Could not validate credentials and error=invalid_token", async (_label, authorization) => {
      expectInvalidToken(await server.gql(ME, {}, { headers: { authorization } }));
    });

    it("J2 refuses two Authorization headers, even when both carry a valid token", async () => {
      const response = await rawGraphQL(server.url, [`Bearer ${token}`, `Bearer ${token}`], ME);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        data: null,
        errors: [expect.objectContaining({ message: "Could not validate credentials", extensions: { code: "UNAUTHENTICATED" } })],
      });
      expect(response.headers["www-authenticate"]).toBe('Bearer error="invalid_token"');
    });
  });

  it.each(["bearer", "BEARER", "BeArEr"])("J3 accepts the scheme written %s", async (scheme) => {
    const response = await server.gql(ME, {}, { headers: { authorization: `${scheme} ${token}` } });
    expect(response.body).toEqual({ data: { me: { id: user.id } } });
  });

  describe("missing scopes", () => {
    it('J19 answers myItems with scope "me" only with FORBIDDEN and insufficient_scope naming both scopes', async () => {
      const meOnly = await server.login(user.username, user.password, ["me"]);
      const response = await server.gql("{ myItems { itemId } }", {}, { token: meOnly });
      expect(response.body.errors).toEqual([
        expect.objectContaining({ message: "Not enough permissions", extensions: { code: "FORBIDDEN" } }),
      ]);
      expect(response.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", scope="me items"');
    });

    it('answers me with no scope at all with insufficient_scope, scope="me"', async () => {
      const none = await server.login(user.username, user.password, []);
      const response = await server.gql(ME, {}, { token: none });
      expect(response.body.errors).toEqual([
        expect.objectContaining({ message: "Not enough permissions", extensions: { code: "FORBIDDEN" } }),
      ]);
      expect(response.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", scope="me"');
    });
  });

  describe("login", () => {
    const login = (username: string, password: string, scopes?: string[], headers?: Record<string, string>) =>
      server.gql(LOGIN, { u: username, p: password, s: scopes }, { headers });

    it("gives an unknown username and a wrong password the same answer, headers included", async () => {
      const unknown = await login(`nobody-${user.username}`, user.password);
      const wrong = await login(user.username, `${user.password}x`);
      expect(unknown.body).toEqual({
        data: null,
        errors: [
          expect.objectContaining({ message: "Incorrect username or password", path: ["login"], extensions: { code: "UNAUTHENTICATED" } }),
        ],
      });
      expect(wrong.body).toEqual(unknown.body);
      expect(wrong.status).toBe(unknown.status);
      expect(unknown.headers.get("www-authenticate")).toBe("Bearer");
      expect(wrong.headers.get("www-authenticate")).toBe(unknown.headers.get("www-authenticate"));
      expect(wrong.headers.get("content-type")).toBe(unknown.headers.get("content-type"));
    });

    it("answers a disabled account's correct password with FORBIDDEN Inactive user, and a wrong one as for anyone", async () => {
      const disabled = await server.createUser({ prefix: "disabled", disabled: true });
      const right = await login(disabled.username, disabled.password);
      expect(right.body.errors).toEqual([expect.objectContaining({ message: "Inactive user", extensions: { code: "FORBIDDEN" } })]);
      expect(right.headers.get("www-authenticate")).toBeNull();
      const wrong = await login(disabled.username, "not-the-password");
      expect(wrong.body.errors).toEqual([
        expect.objectContaining({ message: "Incorrect username or password", extensions: { code: "UNAUTHENTICATED" } }),
      ]);
    });

    it("answers a scope the account does not hold with BAD_USER_INPUT naming it", async () => {
      const response = await login(user.username, user.password, ["me", "admin"]);
      expect(response.body.data).toBeNull();
      expect(response.body.errors).toHaveLength(1);
      expect(response.body.errors![0]!.extensions).toEqual({ code: "BAD_USER_INPUT" });
      expect(response.body.errors![0]!.message).toContain("admin");
      expect(response.headers.get("www-authenticate")).toBeNull();
    });

    it.each([
      ["empty", ""],
      ["blank", "   "],
      ["with a NUL byte", "secret\u0000"],
      ["of 1025 characters", "x".repeat(1025)],
    ])("answers a password that is %s as a wrong one", async (_label, password) => {
      const response = await login(user.username, password);
      expect(response.body.errors).toEqual([
        expect.objectContaining({ message: "Incorrect username or password", extensions: { code: "UNAUTHENTICATED" } }),
      ]);
    });

    it.each([
      ["no hash at all", null],
      ["an empty hash", ""],
      ["a Django unusable password", "!PkizdE5Qe0WpcqeCkcE1gQMLiLrsOc4ioyJHwkSl"],
      ["a hostile bcrypt cost", "$2b$31$K/VgpwnOJ.znlRwJ5pPnvu36qwZuyOC41V0Yg7NwusFjlhIO4i4/2"],
      ["a malformed argon2 hash", "$argon2id$v=19$m=65536,t=3,p=4$$"],
    ])("answers a user stored with %s as a wrong password, whatever is typed", async (_label, hash) => {
      const stored = await server.createUser({ prefix: "unusable" });
      await server.app.database.db.updateTable("users").set({ password_hash: hash }).where("id", "=", stored.id).execute();
      for (const password of [stored.password, "", hash ?? "null"]) {
        const response = await login(stored.username, password);
        expect(response.body.errors).toEqual([
          expect.objectContaining({ message: "Incorrect username or password", extensions: { code: "UNAUTHENTICATED" } }),
        ]);
      }
    });

    it("answers a username with a NUL byte as an unknown one, on every database", async () => {
      const response = await login(`${user.username}\u0000`, user.password);
      expect(response.body.errors).toEqual([
        expect.objectContaining({ message: "Incorrect username or password", extensions: { code: "UNAUTHENTICATED" } }),
      ]);
    });

    it("checks the password before the scopes: a wrong password with an unknown scope is a wrong password", async () => {
      const response = await login(user.username, "not-the-password", ["admin"]);
      expect(response.body.errors?.[0]).toMatchObject({
        message: "Incorrect username or password",
        extensions: { code: "UNAUTHENTICATED" },
      });
    });
  });
});
