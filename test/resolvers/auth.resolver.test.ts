/** AuthResolver without HTTP: login over the real store, hashes and tokens; status for any valid token. */
import { contextForViewer } from "../../src/auth/context";
import { AuthResolver } from "../../src/auth/auth.resolver";
import { createTestApp, type TestApp, type TestUser } from "../harness";

const LOGIN =
  "mutation Login($username: String!, $password: String!, $scopes: [String!]) { login(username: $username, password: $password, scopes: $scopes) { accessToken tokenType expiresIn scope } }";

describe("AuthResolver", () => {
  let t: TestApp;
  let resolver: AuthResolver;
  let user: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    resolver = new AuthResolver(t.app.auth);
    user = await t.createUser({ prefix: "login" });
  });
  afterAll(async () => t?.close());

  describe("level 1: the methods", () => {
    const anonymous = contextForViewer(undefined);

    it("login() returns a bearer token the app's token service accepts", async () => {
      const payload = await resolver.login({ username: user.username, password: user.password }, anonymous);
      expect(payload).toEqual({
        accessToken: expect.any(String),
        tokenType: "bearer",
        expiresIn: 1800,
        scope: "me items",
        refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
      expect(await t.app.tokens.verifyAccessToken(payload.accessToken)).toMatchObject({ sub: user.id, scopes: ["me", "items"] });
    });

    it("login() grants only the scopes asked for", async () => {
      expect((await resolver.login({ username: user.username, password: user.password, scopes: ["items"] }, anonymous)).scope).toBe(
        "items",
      );
    });

    it("login() rejects a wrong password and an unknown user alike", async () => {
      const expected = { code: "UNAUTHENTICATED", message: "Incorrect username or password" };
      await expect(resolver.login({ username: user.username, password: "wrong-password" }, anonymous)).rejects.toMatchObject(expected);
      await expect(resolver.login({ username: "no-such-user", password: "wrong-password" }, anonymous)).rejects.toMatchObject(expected);
    });

    it("status() answers ok", () => {
      expect(resolver.status()).toBe("ok");
    });
  });

  describe("level 2: through Apollo", () => {
    it("logs in whatever Authorization header came with the request", async () => {
      const result = await t.execute(
        LOGIN,
        { username: user.username, password: user.password },
        { authorization: "Bearer stale.or.broken" },
      );
      expect(result.errors).toBeUndefined();
      expect(result.data).toMatchObject({ login: { tokenType: "bearer", scope: "me items" } });
    });

    it("answers an unknown scope with BAD_USER_INPUT naming it", async () => {
      const result = await t.execute(LOGIN, { username: user.username, password: user.password, scopes: ["admin"] });
      expect(result.errors).toEqual([
        expect.objectContaining({ extensions: { code: "BAD_USER_INPUT" }, message: expect.stringContaining("admin") }),
      ]);
    });

    it("answers status for a disabled user's token, which me refuses", async () => {
      const disabled = await t.createUser({ prefix: "disabled", disabled: true });
      const token = await t.tokenFor(disabled.id, []);
      expect(await t.execute("{ status }", {}, { token })).toMatchObject({ data: { status: "ok" } });
      const me = await t.execute("{ me { id } }", {}, { token: await t.tokenFor(disabled.id) });
      expect(me.errors).toEqual([expect.objectContaining({ message: "Inactive user", extensions: { code: "FORBIDDEN" } })]);
    });

    it("answers status only with a valid token", async () => {
      const result = await t.execute("{ status }");
      expect(result.errors).toEqual([expect.objectContaining({ message: "Not authenticated", extensions: { code: "UNAUTHENTICATED" } })]);
    });

    it("passes a syntax error through format-error unmasked", async () => {
      const result = await t.execute("{ status");
      expect(result.errors).toEqual([expect.objectContaining({ extensions: { code: "GRAPHQL_PARSE_FAILED" } })]);
    });
  });
});
