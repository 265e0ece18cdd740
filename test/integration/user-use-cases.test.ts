/**
 * The use cases that own their transactions (disable a user, revoke every token, add a user) and
 * the user store's calibration samples, on both databases: each store writes only its own table.
 */
import { revokeAllTokensOfUser, setUserDisabled } from "../../src/auth/user-revocation";
import { addUser } from "../../src/users/add-user";
import { loginPair, refreshMutation } from "../support";
import { DIALECTS, startTestServer, uniqueName, type TestServer } from "../harness";

describe.each(DIALECTS)("user use cases (%s)", (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dialect });
  });
  afterAll(async () => server?.close());

  /** Sessions whose refresh tokens still rotate (neither ended nor cut off from refreshing). */
  const liveRefreshTokens = async (userId: string) =>
    (
      await server.app.database.db.selectFrom("sessions").select(["revoked_at", "refresh_ended_at"]).where("user_id", "=", userId).execute()
    ).filter((row) => row.revoked_at === null && row.refresh_ended_at === null).length;
  const tokenVersion = async (userId: string) =>
    Number(
      (await server.app.database.db.selectFrom("users").select("token_version").where("id", "=", userId).executeTakeFirstOrThrow())
        .token_version,
    );

  it("the user store disables an account and leaves the refresh tokens, which are not its table, alone", async () => {
    const { id, username, password } = await server.createUser();
    await loginPair(server, username, password);
    expect((await server.app.users.setDisabled(username, true)).disabled).toBe(true);
    expect(await liveRefreshTokens(id)).toBe(1);
  });

  it("setUserDisabled revokes every refresh token in the same step; enabling brings none back", async () => {
    const { id, username, password } = await server.createUser();
    const first = await loginPair(server, username, password);
    await loginPair(server, username, password);
    expect(await liveRefreshTokens(id)).toBe(2);

    expect(await setUserDisabled(server.app.auth, username.toUpperCase(), true)).toMatchObject({
      id,
      username,
      disabled: true,
    });
    expect(await liveRefreshTokens(id)).toBe(0);

    expect(await setUserDisabled(server.app.auth, username, false)).toMatchObject({ id, disabled: false });
    expect(await liveRefreshTokens(id)).toBe(0);
    expect((await refreshMutation(server, first.refreshToken)).body.errors?.[0]).toMatchObject({
      message: "Invalid refresh token",
      extensions: { code: "UNAUTHENTICATED" },
    });
  });

  it("setUserDisabled of an unknown user throws UserNotFound", async () => {
    await expect(setUserDisabled(server.app.auth, uniqueName("nobody"), true)).rejects.toMatchObject({
      name: "UserNotFound",
    });
  });

  it("revokeAllTokensOfUser moves the token version and revokes every refresh token; unknown users: nothing", async () => {
    const { id, username, password } = await server.createUser();
    await loginPair(server, username, password);
    const before = await tokenVersion(id);
    const after = await revokeAllTokensOfUser(server.app.auth, id);
    expect(after).toBe(await tokenVersion(id));
    expect(after).toBeGreaterThan(before);
    expect(await liveRefreshTokens(id)).toBe(0);
    expect(await revokeAllTokensOfUser(server.app.auth, "00000000-0000-4000-8000-000000000000")).toBeUndefined();
  });

  it("addUser checks every field before asking for the password, applies the policy, hashes for real", async () => {
    const asked: string[] = [];
    const deps = { users: server.app.users, passwords: server.app.passwords, audit: server.app.audit };
    const password = (value: string) => async () => {
      asked.push(value);
      return value;
    };
    const username = uniqueName("adder");
    const user = await addUser(deps, { username, email: " add@example.com ", password: password("a good password") });
    expect(user).toMatchObject({
      username,
      email: "add@example.com",
      fullName: null,
      disabled: false,
      scopes: ["me", "items"],
    });
    const stored = await server.app.users.findCredentials(username);
    expect(stored?.passwordHash).toMatch(/^\$argon2id\$/);
    expect((await server.app.passwords.verify("a good password", stored!.passwordHash!)).ok).toBe(true);

    await expect(addUser(deps, { username: username.toUpperCase(), password: password("never asked 1") })).rejects.toMatchObject({
      name: "UsernameTaken",
    });
    await expect(
      addUser(deps, { username: uniqueName("bad"), scopes: 'me "quoted"', password: password("never asked 2") }),
    ).rejects.toMatchObject({
      name: "InvalidScope",
      token: '"quoted"',
    });
    await expect(
      addUser(deps, { username: uniqueName("mail"), email: "not an address", password: password("never asked 3") }),
    ).rejects.toMatchObject({
      name: "InvalidEmail",
    });
    expect(asked).toEqual(["a good password"]);

    const short = uniqueName("short");
    await expect(addUser(deps, { username: short, password: password("short") })).rejects.toMatchObject({
      code: "BAD_USER_INPUT",
      message: "Password must be at least 8 characters",
    });
    expect(await server.app.users.findUserByUsername(short)).toBeUndefined();

    const listed = await addUser(deps, {
      username: uniqueName("list"),
      scopes: ["items", "me", "items"],
      disabled: true,
      password: password("another password"),
    });
    expect(listed).toMatchObject({ scopes: ["items", "me"], disabled: true });
  });

  it("the user store refuses scopes outside the grammar, whichever door calls it", async () => {
    const username = uniqueName("scoped");
    await expect(
      server.app.users.createUser({ username, passwordHash: "$argon2id$placeholder", scopes: ["me", "bad\\scope"] }),
    ).rejects.toMatchObject({
      name: "InvalidScope",
    });
    expect(await server.app.users.findUserByUsername(username)).toBeUndefined();
  });

  it("storedPasswordHashes reads hashes in id order, skips accounts without one, stops at maxRows", async () => {
    const db = server.app.database.db;
    for (let i = 0; i < 3; i++) await server.createUser();
    const { id: noHash } = await server.createUser();
    await db.updateTable("users").set({ password_hash: null }).where("id", "=", noHash).execute();
    const all = await db.selectFrom("users").select(["id", "password_hash"]).orderBy("id").execute();
    const expected = all.flatMap((row) => (row.password_hash === null ? [] : [row.password_hash]));
    expect(expected.length).toBe(all.length - 1);

    const read: string[] = [];
    for await (const hash of server.app.users.storedPasswordHashes(10_000)) read.push(hash);
    expect(read).toEqual(expected);
    const firstTwo: string[] = [];
    for await (const hash of server.app.users.storedPasswordHashes(2)) firstTwo.push(hash);
    expect(firstTwo).toEqual(expected.slice(0, 2));
  });
});
