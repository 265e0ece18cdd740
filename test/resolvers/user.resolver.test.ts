/**
 * UserResolver without HTTP, at the two levels of STYLE section 6: the method on an instance, then
 * the operation through Apollo. A model for testing a resolver of your own.
 */
import { contextForViewer } from "../../src/auth/context";
import { UserResolver } from "../../src/users/user.resolver";
import { createTestApp, type TestApp, type TestUser } from "../harness";

describe("UserResolver", () => {
  // One app per file: a fresh SQLite file, real stores, the schema built once.
  let t: TestApp;
  let ada: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    ada = await t.createUser({ prefix: "ada", scopes: ["me", "items"] });
  });
  afterAll(async () => t?.close());

  describe("level 1: the method, with a constructed context", () => {
    it("me() returns the viewer's user", async () => {
      const ctx = contextForViewer({ user: ada.user, scopes: ["me"], tokenId: "test", issuedAt: 0 });
      expect(await new UserResolver().me(ctx)).toEqual(ada.user);
    });

    it("me() reads the user the token names, through the same buildContext as HTTP", async () => {
      const ctx = t.context({ token: await t.tokenFor(ada.id, ["me"]) });
      expect(await new UserResolver().me(ctx)).toEqual(ada.user);
    });

    it("me() rejects with NotAuthenticated when there is no viewer", async () => {
      await expect(new UserResolver().me(contextForViewer(undefined))).rejects.toMatchObject({
        code: "UNAUTHENTICATED",
        message: "Not authenticated",
      });
    });
  });

  // Scopes and the active-user rule live in @Authorized, which only runs inside the schema.
  describe("level 2: the operation through Apollo, with a context from buildContext", () => {
    const ME = "{ me { id username email fullName disabled scopes } }";

    it("answers me for a token with scope me", async () => {
      const result = await t.execute(ME, {}, { token: await t.tokenFor(ada.id, ["me"]) });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({
        me: {
          id: ada.id,
          username: ada.username,
          email: `${ada.username}@example.com`,
          fullName: `Test ${ada.username}`,
          disabled: false,
          scopes: ["me", "items"],
        },
      });
    });

    it("refuses a token without scope me, with the insufficient_scope challenge", async () => {
      const result = await t.execute(ME, {}, { token: await t.tokenFor(ada.id, ["items"]) });
      expect(result.errors).toEqual([expect.objectContaining({ message: "Not enough permissions", extensions: { code: "FORBIDDEN" } })]);
      expect(result.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", scope="me"');
    });

    it("refuses a disabled user", async () => {
      const bob = await t.createUser({ prefix: "bob", disabled: true });
      const result = await t.execute(ME, {}, { token: await t.tokenFor(bob.id) });
      expect(result.errors).toEqual([expect.objectContaining({ message: "Inactive user", extensions: { code: "FORBIDDEN" } })]);
    });

    it("refuses a request without a token, and one with a bad token", async () => {
      const none = await t.execute(ME);
      expect(none.errors).toEqual([expect.objectContaining({ message: "Not authenticated", extensions: { code: "UNAUTHENTICATED" } })]);
      expect(none.headers.get("www-authenticate")).toBe("Bearer");
      const bad = await t.execute(ME, {}, { token: "not-a-jwt" });
      expect(bad.errors).toEqual([
        expect.objectContaining({ message: "Could not validate credentials", extensions: { code: "UNAUTHENTICATED" } }),
      ]);
      expect(bad.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    });

    it("never exposes a password hash: User has no such field", async () => {
      const result = await t.execute("{ me { passwordHash } }", {}, { token: await t.tokenFor(ada.id) });
      expect(result.errors).toEqual([expect.objectContaining({ extensions: { code: "GRAPHQL_VALIDATION_FAILED" } })]);
    });
  });
});
