/** The sessions migration moves data: refresh-token families made before it become sessions that keep working. */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createDb } from "../../src/db/database";
import { migrateToLatest } from "../../src/db/migrate";
import { decodeJwt, refreshMutation, whoAmI } from "../support";
import { createTestDatabase, DIALECTS, startTestServer, uniqueName, type TestDatabase, type TestServer } from "../harness";

const digest = (token: string) => createHash("sha256").update(token).digest("hex");
const HOUR = 3600 * 1000;

describe.each(DIALECTS)("the sessions migration (%s)", (dialect) => {
  let database: TestDatabase;
  let server: TestServer | undefined;
  const userId = randomUUID();
  const username = uniqueName("premigration");
  const live = {
    root: randomUUID(),
    child: randomUUID(),
    rootToken: randomBytes(32).toString("base64url"),
    childToken: randomBytes(32).toString("base64url"),
  };
  const revoked = { root: randomUUID(), token: randomBytes(32).toString("base64url") };
  const loginAt = Date.now() - 2 * HOUR;
  const rotatedAt = loginAt + HOUR;
  const expiresAt = loginAt + 14 * 24 * HOUR;

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    const handle = createDb(database.url);
    try {
      // The schema as it was before sessions, with a user and two families in it.
      await migrateToLatest(handle.db, "2026-12-01-05-username-skeleton");
      const db = handle.db as any;
      await db
        .insertInto("users")
        .values({
          id: userId,
          username,
          username_key: username,
          skeleton_key: username,
          password_hash: null,
          disabled: 0,
          scopes: "me items",
          created_at: new Date(loginAt).toISOString(),
          updated_at: new Date(loginAt).toISOString(),
        })
        .execute();
      const row = (id: string, token: string, familyId: string, parentId: string | null, createdAt: number) => ({
        id,
        token_hash: digest(token),
        family_id: familyId,
        parent_id: parentId,
        user_id: userId,
        scopes: "me items",
        created_at: createdAt,
        family_expires_at: expiresAt,
      });
      await db
        .insertInto("refresh_tokens")
        .values([
          { ...row(live.root, live.rootToken, live.root, null, loginAt), spent_at: rotatedAt },
          row(live.child, live.childToken, live.root, live.root, rotatedAt),
          { ...row(revoked.root, revoked.token, revoked.root, null, loginAt), revoked_at: rotatedAt },
        ])
        .execute();
    } finally {
      await handle.close();
    }
    // The app migrates the rest at start-up.
    server = await startTestServer({ databaseUrl: database.url });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  it("makes each family a session with its times and revocation", async () => {
    const sessions = await server!.app.database.db
      .selectFrom("sessions")
      .selectAll()
      .where("user_id", "=", userId)
      .orderBy("revoked_at")
      .execute();
    const byId = new Map(sessions.map((s) => [s.id, s]));
    expect(sessions).toHaveLength(2);
    expect(byId.get(live.root)).toMatchObject({
      user_id: userId,
      revoked_at: null,
      user_agent: null,
      client_address: null,
    });
    expect(Number(byId.get(live.root)!.created_at)).toBe(loginAt);
    expect(Number(byId.get(live.root)!.last_used_at)).toBe(rotatedAt);
    expect(Number(byId.get(live.root)!.expires_at)).toBe(expiresAt);
    expect(Number(byId.get(revoked.root)!.revoked_at)).toBe(rotatedAt);
    const tokens = await server!.app.database.db
      .selectFrom("refresh_tokens")
      .select(["id", "session_id"])
      .where("user_id", "=", userId)
      .execute();
    expect(tokens.map((t) => [t.id, t.session_id]).sort()).toEqual(
      [
        [live.root, live.root],
        [live.child, live.root],
        [revoked.root, revoked.root],
      ].sort(),
    );
  });

  it("keeps the live family's current token working, as its session; the revoked one stays dead", async () => {
    const rotated = await refreshMutation(server!, live.childToken);
    expect(rotated.body.errors).toBeUndefined();
    const pair = rotated.body.data!.refresh;
    expect(decodeJwt(pair.accessToken).payload.sid).toBe(live.root);
    expect(await whoAmI(server!, pair.accessToken)).toBe(username);
    expect((await refreshMutation(server!, revoked.token)).body.errors?.[0]).toMatchObject({
      message: "Invalid refresh token",
    });
    // Its access tokens, issued before and so without sid, are judged as before.
    const before = (await server!.app.tokens.issueAccessToken(userId, ["me"], { tokenVersion: 0 })).accessToken;
    expect(await whoAmI(server!, before)).toBe(username);
  });

  it("treats the family's token spent before the change as reuse, which ends the session", async () => {
    expect((await refreshMutation(server!, live.rootToken)).body.errors?.[0]).toMatchObject({
      message: "Invalid refresh token",
    });
    const session = await server!.app.database.db
      .selectFrom("sessions")
      .select("revoked_at")
      .where("id", "=", live.root)
      .executeTakeFirstOrThrow();
    expect(session.revoked_at).not.toBeNull();
  });
});
