/** AdminResolver without HTTP: its methods over the real stores with a constructed context, then through Apollo. */
import { AdminResolver } from "../../src/admin/admin.resolver";
import { contextForViewer } from "../../src/auth/context";
import { login } from "../../src/auth/login";
import { type Viewer } from "../../src/users/viewer";
import { createTestApp, movableClock, type TestApp, type TestUser } from "../harness";
import { DAY_MS } from "../support";

describe("AdminResolver", () => {
  let t: TestApp;
  let resolver: AdminResolver;
  let admin: TestUser;
  let viewer: Viewer;
  beforeAll(async () => {
    t = await createTestApp();
    resolver = new AdminResolver({
      users: t.app.users,
      passwords: t.app.passwords,
      audit: t.app.audit,
      mfa: t.app.mfa.mfa,
      clock: t.app.auth.clock,
      limiter: t.app.limiter,
    });
    admin = await t.createUser({ prefix: "root", scopes: ["me", "admin"] });
    viewer = { user: admin.user, scopes: ["me", "admin"], tokenId: "test", issuedAt: 0 };
  });
  afterAll(async () => t?.close());

  describe("level 1: the methods", () => {
    it("user finds by id in any case of the UUID, and answers null for an unknown or malformed one", async () => {
      const user = await t.createUser();
      expect(await resolver.user({ id: user.id.toUpperCase() })).toMatchObject({
        id: user.id,
        username: user.username,
      });
      expect(await resolver.user({ id: "00000000-0000-4000-8000-000000000000" })).toBeNull();
      expect(await resolver.user({ id: "x" })).toBeNull();
    });

    it("users pages by username with opaque cursors and counts every match", async () => {
      const a = await t.createUser({ prefix: "pagea" });
      const b = await t.createUser({ prefix: "pageb" });
      const one = await resolver.users({ first: 1, search: "PAGE" });
      expect(one.totalCount).toBe(2);
      expect(one.edges.map((e) => e.node.id)).toEqual([a.id]);
      expect(one.pageInfo).toEqual({ hasNextPage: true, endCursor: one.edges[0]!.cursor });
      const two = await resolver.users({ first: 1, search: "page", after: one.pageInfo.endCursor });
      expect(two.edges.map((e) => e.node.id)).toEqual([b.id]);
      expect(two.pageInfo.hasNextPage).toBe(false);
      await expect(resolver.users({ first: 101 })).rejects.toMatchObject({
        code: "BAD_USER_INPUT",
        message: "first must be between 1 and 100",
      });
    });

    it("own account: disabling, deleting or dropping admin is refused; the viewer comes from the context", async () => {
      const ctx = contextForViewer(viewer);
      const own = { code: "BAD_USER_INPUT", message: "You cannot do that to your own account" };
      await expect(resolver.updateUser({ id: admin.id, input: { disabled: true } }, ctx)).rejects.toMatchObject(own);
      await expect(resolver.updateUser({ id: admin.id, input: { scopes: ["me"] } }, ctx)).rejects.toMatchObject(own);
      await expect(resolver.deleteUser({ id: admin.id }, ctx)).rejects.toMatchObject(own);
      expect(await t.app.users.findUserById(admin.id)).toMatchObject({ disabled: false, scopes: ["me", "admin"] });

      // The same calls on another account go through.
      const other = await t.createUser({ scopes: ["me", "admin"] });
      expect(await resolver.updateUser({ id: other.id, input: { disabled: true, scopes: ["me"] } }, ctx)).toMatchObject({
        disabled: true,
        scopes: ["me"],
      });
      expect(await resolver.deleteUser({ id: other.id }, ctx)).toBe(true);
      await expect(resolver.deleteUser({ id: other.id }, ctx)).rejects.toMatchObject({
        code: "BAD_USER_INPUT",
        message: "Unknown user",
      });
    });

    it("createUser goes through the add-user use case: the blocklist applies", async () => {
      await expect(resolver.createUser({ input: { username: "blocked_pw", password: "iloveyou123" } })).rejects.toMatchObject({
        code: "BAD_USER_INPUT",
        message: "Password is too common",
      });
      expect(await t.app.users.findUserByUsername("blocked_pw")).toBeUndefined();
    });
  });

  describe("level 2: through Apollo", () => {
    it("needs scope admin in the token and an active account", async () => {
      const query = "{ users { totalCount } }";
      const withAdmin = await t.tokenFor(admin.id, ["me", "admin"]);
      expect((await t.execute(query, {}, { token: withAdmin })).data?.users.totalCount).toEqual(expect.any(Number));

      const withoutAdmin = await t.tokenFor(admin.id, ["me"]);
      expect((await t.execute(query, {}, { token: withoutAdmin })).errors?.[0]).toMatchObject({
        message: "Not enough permissions",
        extensions: { code: "FORBIDDEN" },
      });
      // A token that claims admin for an account that does not hold it gets nothing.
      const plain = await t.createUser();
      const claimed = await t.tokenFor(plain.id, ["me", "admin"]);
      expect((await t.execute(query, {}, { token: claimed })).errors?.[0]).toMatchObject({
        message: "Not enough permissions",
        extensions: { code: "FORBIDDEN" },
      });
      const disabled = await t.createUser({ scopes: ["me", "admin"], disabled: true });
      const disabledToken = await t.tokenFor(disabled.id, ["me", "admin"]);
      expect((await t.execute(query, {}, { token: disabledToken })).errors?.[0]).toMatchObject({
        message: "Inactive user",
        extensions: { code: "FORBIDDEN" },
      });
    });
  });

  describe("revokeUserSessions counts live sessions only", () => {
    const clock = movableClock();
    let timed: TestApp;
    beforeAll(async () => {
      timed = await createTestApp({ clock });
    });
    afterAll(async () => timed?.close());

    it("a session past REFRESH_TOKEN_EXPIRE_DAYS, not yet pruned, is not counted as ended now", async () => {
      const deps = {
        users: timed.app.users,
        passwords: timed.app.passwords,
        clock,
        limiter: timed.app.limiter,
        audit: timed.app.audit,
        mfa: timed.app.mfa.mfa,
      };
      const timedResolver = new AdminResolver(deps);
      const user = await timed.createUser();
      const credentials = { username: user.username, password: user.password, clientAddress: "192.0.2.9" };
      await login(timed.app.auth, credentials);
      await login(timed.app.auth, credentials);
      clock.advance(13 * DAY_MS);
      await login(timed.app.auth, credentials);
      // The first two are past their 14 days; no login since has pruned them.
      clock.advance(2 * DAY_MS);
      expect(await timedResolver.revokeUserSessions({ id: user.id })).toBe(1);
    });
  });
});
