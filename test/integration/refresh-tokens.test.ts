import { createHash, randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { refresh, type SessionDeps } from "../../src/auth/refresh-tokens";
import { setUserDisabled } from "../../src/auth/user-revocation";
import { createLogger } from "../../src/log";
import { DAY_MS, loginPair, logoutMutation, movableClock, refreshMutation, whoAmI } from "../support";
import { DIALECTS, startTestServer, type TestServer } from "../harness";

const INVALID_REFRESH = { message: "Invalid refresh token", extensions: { code: "UNAUTHENTICATED" } };
const INVALID_TOKEN = { code: "UNAUTHENTICATED", message: "Could not validate credentials" };

describe.each(DIALECTS)("refresh tokens, strict single use (%s)", (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    // REFRESH_TOKEN_REUSE_INTERVAL=0: every second use is reuse (the interval: sessions.test.ts).
    server = await startTestServer({ dialect, env: { REFRESH_TOKEN_REUSE_INTERVAL: "0" } });
  });
  afterAll(async () => server?.close());

  const tokenRows = (userId: string) =>
    server.app.database.db.selectFrom("refresh_tokens").selectAll().where("user_id", "=", userId).orderBy("created_at").execute();
  const sessionRows = (userId: string) => server.app.database.db.selectFrom("sessions").selectAll().where("user_id", "=", userId).execute();

  it("login returns a 256-bit opaque refresh token, and refresh rotates it", async () => {
    const { username, password } = await server.createUser();
    const first = await loginPair(server, username, password);
    expect(first.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first).toMatchObject({ tokenType: "bearer", scope: "me items", expiresIn: 1800 });

    const rotated = await refreshMutation(server, first.refreshToken);
    expect(rotated.body.errors).toBeUndefined();
    const second = rotated.body.data!.refresh;
    expect(second).toMatchObject({ tokenType: "bearer", scope: "me items", expiresIn: 1800 });
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(await whoAmI(server, second.accessToken)).toBe(username);

    const third = await refreshMutation(server, second.refreshToken);
    expect(third.body.data?.refresh.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("a replayed token is refused and ends its whole session (reuse detection)", async () => {
    const { username, password, id } = await server.createUser();
    const first = await loginPair(server, username, password);
    const second = (await refreshMutation(server, first.refreshToken)).body.data!.refresh;

    const replay = await refreshMutation(server, first.refreshToken);
    expect(replay.body.errors?.[0]).toMatchObject(INVALID_REFRESH);
    expect(replay.body.data).toBeNull();
    // The child, never used, dies with its session, and so does the session's access token.
    expect((await refreshMutation(server, second.refreshToken)).body.errors?.[0]).toMatchObject(INVALID_REFRESH);
    expect(await whoAmI(server, second.accessToken)).toEqual(INVALID_TOKEN);
    expect(await tokenRows(id)).toHaveLength(2);
    const sessions = await sessionRows(id);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.revoked_at).not.toBeNull();
  });

  it("of two concurrent refreshes with one token exactly one succeeds, and the session ends", async () => {
    const { username, password, id } = await server.createUser();
    const { refreshToken } = await loginPair(server, username, password);

    const answers = await Promise.all([refreshMutation(server, refreshToken), refreshMutation(server, refreshToken)]);
    const winners = answers.filter((a) => a.body.data?.refresh);
    const losers = answers.filter((a) => a.body.errors);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(losers[0]!.body.errors![0]).toMatchObject(INVALID_REFRESH);

    // The loser counted as reuse: the winner's new refresh token is dead too.
    const winnersToken = winners[0]!.body.data!.refresh.refreshToken;
    expect((await refreshMutation(server, winnersToken)).body.errors?.[0]).toMatchObject(INVALID_REFRESH);
    const rows = await tokenRows(id);
    expect(rows).toHaveLength(2);
    expect(rows.filter((row) => row.spent_at !== null)).toHaveLength(1);
    expect((await sessionRows(id))[0]!.revoked_at).not.toBeNull();
  });

  it("the store's conditional spend lets exactly one of ten simultaneous rotations through", async () => {
    const { username, password, id } = await server.createUser();
    const { refreshToken } = await loginPair(server, username, password);
    const parent = await server.app.sessions.findToken(createHash("sha256").update(refreshToken).digest("hex"));
    const now = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        server.app.sessions.rotate(
          parent!.id,
          {
            id: randomUUID(),
            tokenHash: createHash("sha256").update(`${id}-${i}`).digest("hex"),
            sessionId: parent!.sessionId,
            parentId: parent!.id,
            userId: id,
            scopes: ["me"],
            createdAt: now,
          },
          now,
        ),
      ),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    expect(await tokenRows(id)).toHaveLength(2);
  });

  it("refuses junk without a 5xx: an access JWT, an empty string, SQL, 60 kB of text", async () => {
    const { username, password } = await server.createUser();
    const { accessToken } = await loginPair(server, username, password);
    for (const junk of [accessToken, "", "' OR 1=1 --", "x".repeat(60_000), "A".repeat(43)]) {
      const response = await refreshMutation(server, junk);
      expect(response.status).toBe(200);
      expect(response.body.errors?.[0]).toMatchObject(INVALID_REFRESH);
    }
  });

  it("refuses 1 MB in the use case itself", async () => {
    // Over HTTP the body limit answers first (413); the use case must not depend on it.
    const { app } = server;
    const deps: SessionDeps = {
      ...app.auth,
      sessions: app.sessions,
      users: app.users,
      tokens: app.tokens,
      clock: movableClock(),
      logger: createLogger({ level: "silent" }),
      refreshTokenExpireDays: 14,
    };
    await expect(refresh(deps, "y".repeat(1024 * 1024))).rejects.toMatchObject({
      message: "Invalid refresh token",
      code: "UNAUTHENTICATED",
    });
  });

  it("logout ends the session and its access token at once; a second ends nothing; others live on", async () => {
    const { username, password } = await server.createUser();
    const pair = await loginPair(server, username, password);
    const other = await loginPair(server, username, password);

    const first = await logoutMutation(server, pair.refreshToken);
    expect(first.body).toEqual({ data: { logout: true } });
    expect((await refreshMutation(server, pair.refreshToken)).body.errors?.[0]).toMatchObject(INVALID_REFRESH);
    expect((await logoutMutation(server, pair.refreshToken)).body).toEqual({ data: { logout: false } });
    expect((await logoutMutation(server, "not-a-token")).body).toEqual({ data: { logout: false } });
    // The session's access token is refused from the next request (CONTRACT section 9); the
    // user's other session is untouched.
    expect(await whoAmI(server, pair.accessToken)).toEqual(INVALID_TOKEN);
    expect(await whoAmI(server, other.accessToken)).toBe(username);
    expect((await refreshMutation(server, other.refreshToken)).body.data?.refresh.scope).toBe("me items");
  });

  it("logout everywhere refuses every earlier access and refresh token, and a login right after works", async () => {
    const { username, password } = await server.createUser();
    const phone = await loginPair(server, username, password);
    const laptop = await loginPair(server, username, password);
    const laptopRotated = (await refreshMutation(server, laptop.refreshToken)).body.data!.refresh;

    expect((await logoutMutation(server, phone.refreshToken, true)).body).toEqual({ data: { logout: true } });

    for (const token of [phone.accessToken, laptop.accessToken, laptopRotated.accessToken]) {
      expect(await whoAmI(server, token)).toEqual(INVALID_TOKEN);
    }
    const refused = await server.gql("{ status }", {}, { token: laptopRotated.accessToken });
    expect(refused.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    expect((await refreshMutation(server, laptopRotated.refreshToken)).body.errors?.[0]).toMatchObject(INVALID_REFRESH);

    // Most likely within the same second as the logout: still accepted, being issued after it.
    const fresh = await loginPair(server, username, password);
    expect(await whoAmI(server, fresh.accessToken)).toBe(username);
    expect((await refreshMutation(server, fresh.refreshToken)).body.data?.refresh.scope).toBe("me items");
  });

  it("users disable ends the sessions for refreshing; the access token then meets Inactive user", async () => {
    const { username, password } = await server.createUser();
    const pair = await loginPair(server, username, password);
    await setUserDisabled(server.app.auth, username, true);

    expect((await refreshMutation(server, pair.refreshToken)).body.errors?.[0]).toMatchObject(INVALID_REFRESH);
    expect(await whoAmI(server, pair.accessToken)).toEqual({ code: "FORBIDDEN", message: "Inactive user" });
    expect((await server.gql("{ status }", {}, { token: pair.accessToken })).body).toEqual({ data: { status: "ok" } });

    // Enabling again does not bring the old login back.
    await setUserDisabled(server.app.auth, username, false);
    expect((await refreshMutation(server, pair.refreshToken)).body.errors?.[0]).toMatchObject(INVALID_REFRESH);
    expect(await whoAmI(server, (await loginPair(server, username, password)).accessToken)).toBe(username);
  });

  if (dialect === "sqlite") {
    it("keeps no refresh token in plaintext in the database, its WAL or shared-memory file", async () => {
      const { username, password, id } = await server.createUser();
      const issued: string[] = [];
      let pair = await loginPair(server, username, password);
      issued.push(pair.refreshToken);
      for (let i = 0; i < 3; i++) {
        pair = (await refreshMutation(server, pair.refreshToken)).body.data!.refresh;
        issued.push(pair.refreshToken);
      }
      const dbFile = server.database.url.slice("sqlite:".length);
      const files = readdirSync(dirname(dbFile)).map((name) => `${dirname(dbFile)}/${name}`);
      expect(files.some((f) => f.endsWith("-wal"))).toBe(true);
      const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
      for (const token of issued) {
        expect(bytes.includes(Buffer.from(token))).toBe(false);
        expect(bytes.includes(Buffer.from(token, "base64url"))).toBe(false);
      }
      // What is stored is the SHA-256 digest.
      const hashes = (await tokenRows(id)).map((row) => row.token_hash).sort();
      expect(hashes).toEqual(issued.map((t) => createHash("sha256").update(t).digest("hex")).sort());
    });
  }
});

describe.each(DIALECTS)("refresh-token lifetime on an injected clock (%s)", (dialect) => {
  const clock = movableClock(Date.UTC(2030, 0, 1));
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dialect, clock });
  });
  afterAll(async () => server?.close());

  it("bounds a session's life absolutely: rotation never extends it; expired ones pruned at a later login", async () => {
    const { username, password, id } = await server.createUser();
    const loginAt = clock.now();
    let pair = await loginPair(server, username, password);

    clock.advance(13 * DAY_MS);
    pair = (await refreshMutation(server, pair.refreshToken)).body.data!.refresh;
    expect(pair.expiresIn).toBe(1800);

    // A minute before the end: the new access token does not outlive the login.
    clock.set(loginAt + 14 * DAY_MS - 60_000);
    pair = (await refreshMutation(server, pair.refreshToken)).body.data!.refresh;
    expect(pair.expiresIn).toBe(60);

    clock.set(loginAt + 14 * DAY_MS);
    expect((await refreshMutation(server, pair.refreshToken)).body.errors?.[0]).toMatchObject(INVALID_REFRESH);
    const rowsBefore = await server.app.database.db.selectFrom("refresh_tokens").select("id").where("user_id", "=", id).execute();
    expect(rowsBefore).toHaveLength(3);

    // The next login anywhere deletes the expired session and its tokens, with no scheduled job.
    const other = await server.createUser();
    await loginPair(server, other.username, other.password);
    const rowsAfter = await server.app.database.db.selectFrom("refresh_tokens").select("id").where("user_id", "=", id).execute();
    expect(rowsAfter).toHaveLength(0);
    const { db } = server.app.database;
    const sessionsAfter = await db.selectFrom("sessions").select("id").where("user_id", "=", id).execute();
    expect(sessionsAfter).toHaveLength(0);
  });
});
