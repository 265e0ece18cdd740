/** SessionResolver without HTTP: its methods over the real stores with a constructed context, then through Apollo. */
import { contextForViewer } from "../../src/auth/context";
import { type Viewer } from "../../src/users/viewer";
import { login } from "../../src/auth/login";
import { SessionResolver } from "../../src/sessions/session.resolver";
import { createTestApp, type TestApp, type TestUser } from "../harness";

describe("SessionResolver", () => {
  let t: TestApp;
  let resolver: SessionResolver;
  beforeAll(async () => {
    t = await createTestApp();
    resolver = new SessionResolver({ sessions: t.app.sessions, clock: t.app.auth.clock, audit: t.app.audit });
  });
  afterAll(async () => t?.close());

  /** A real login (a session row), and the viewer its access token stands for. */
  async function loggedIn(user: TestUser, userAgent?: string): Promise<{ viewer: Viewer; sessionId: string }> {
    const pair = await login(t.app.auth, {
      username: user.username,
      password: user.password,
      clientAddress: "192.0.2.7",
      userAgent,
    });
    const sessionId = pair.claims.sid!;
    return {
      viewer: {
        user: user.user,
        scopes: ["me", "items"],
        tokenId: pair.claims.jti,
        issuedAt: pair.claims.iat,
        sessionId,
      },
      sessionId,
    };
  }

  describe("level 1: the methods", () => {
    it("mySessions lists the viewer's live sessions, newest first, marking the current one", async () => {
      const user = await t.createUser();
      const older = await loggedIn(user, "Older/1");
      await new Promise((resolve) => setTimeout(resolve, 5));
      const newer = await loggedIn(user, "Newer/2");
      const sessions = await resolver.mySessions(contextForViewer(older.viewer));
      expect(sessions.map((s) => [s.id, s.userAgent, s.clientAddress, s.current, s.mfa])).toEqual([
        [newer.sessionId, "Newer/2", "192.0.2.7", false, false],
        [older.sessionId, "Older/1", "192.0.2.7", true, false],
      ]);
      expect(sessions[0]!.createdAt).toBeInstanceOf(Date);
    });

    it("revokeSession ends an own session once; a foreign, malformed or unknown id answers false", async () => {
      const user = await t.createUser();
      const other = await t.createUser();
      const mine = await loggedIn(user);
      const spare = await loggedIn(user);
      const theirs = await loggedIn(other);
      const ctx = contextForViewer(mine.viewer);
      expect(await resolver.revokeSession({ id: theirs.sessionId }, ctx)).toBe(false);
      expect(await resolver.revokeSession({ id: "nope" }, ctx)).toBe(false);
      expect(await resolver.revokeSession({ id: "00000000-0000-4000-8000-000000000000" }, ctx)).toBe(false);
      expect(await resolver.revokeSession({ id: spare.sessionId.toUpperCase() }, ctx)).toBe(true);
      expect(await resolver.revokeSession({ id: spare.sessionId }, ctx)).toBe(false);
      expect((await resolver.mySessions(contextForViewer(theirs.viewer))).map((s) => s.id)).toEqual([theirs.sessionId]);
      expect((await resolver.mySessions(ctx)).map((s) => s.id)).toEqual([mine.sessionId]);
    });

    it("revokeOtherSessions keeps the current session and counts the others", async () => {
      const user = await t.createUser();
      const current = await loggedIn(user);
      await loggedIn(user);
      await loggedIn(user);
      expect(await resolver.revokeOtherSessions(contextForViewer(current.viewer))).toBe(2);
      expect((await resolver.mySessions(contextForViewer(current.viewer))).map((s) => s.current)).toEqual([true]);
    });
  });

  describe("level 2: through Apollo", () => {
    it("mySessions needs scope me; revokeSession needs a valid token", async () => {
      const user = await t.createUser();
      const itemsOnly = await t.tokenFor(user.id, ["items"]);
      expect((await t.execute("{ mySessions { id } }", {}, { token: itemsOnly })).errors?.[0]).toMatchObject({
        message: "Not enough permissions",
        extensions: { code: "FORBIDDEN" },
      });
      expect((await t.execute('mutation { revokeSession(id: "x") }')).errors?.[0]).toMatchObject({
        message: "Not authenticated",
        extensions: { code: "UNAUTHENTICATED" },
      });
      // A token without sid: no session is current, and there is none to list.
      const noSid = await t.tokenFor(user.id);
      expect((await t.execute("{ mySessions { id current } }", {}, { token: noSid })).data).toEqual({ mySessions: [] });
    });
  });
});
