/** UserStore on both databases: case-insensitive usernames, no hash in a User, the guarded hash upgrade. */
import { UserStore } from "../../src/users/user.store";
import { DIALECTS, startTestServer, uniqueName, type TestServer } from "../harness";

describe.each(DIALECTS)("UserStore (%s)", (dialect) => {
  let server: TestServer;
  let users: UserStore;
  beforeAll(async () => {
    server = await startTestServer({ dialect });
    users = server.app.users;
  });
  afterAll(async () => server?.close());

  const newUser = (username = uniqueName("store")) => users.createUser({ username, passwordHash: "$argon2id$placeholder", scopes: ["me"] });

  it("returns a User without any password hash, and the same one on every lookup", async () => {
    const created = await newUser();
    expect(Object.keys(created).sort()).toEqual(["disabled", "email", "emailVerified", "fullName", "id", "scopes", "username"]);
    expect(await users.findUserById(created.id)).toEqual(created);
    expect(await users.findUserByUsername(created.username)).toEqual(created);
    expect(await users.listUsers()).toContainEqual(created);
  });

  it("matches usernames case-insensitively, fullwidth forms and surrounding spaces included", async () => {
    const name = uniqueName("Grace");
    const created = await newUser(name);
    for (const variant of [name.toUpperCase(), name.toLowerCase(), ` ${name} `, toFullwidth(name)]) {
      expect(await users.findUserByUsername(variant)).toEqual(created);
    }
  });

  it("refuses a username that differs from an existing one only in case", async () => {
    const name = uniqueName("dup");
    await newUser(name);
    await expect(newUser(name.toUpperCase())).rejects.toMatchObject({ code: "BAD_USER_INPUT", name: "UsernameTaken" });
  });

  it("answers unknown users with undefined, or UserNotFound where one is required", async () => {
    expect(await users.findUserByUsername("no-such-user")).toBeUndefined();
    expect(await users.findCredentials("no-such-user")).toBeUndefined();
    await expect(users.setDisabled("no-such-user", true)).rejects.toMatchObject({ name: "UserNotFound" });
  });

  it("upgrades a hash only if it is still the one that was verified", async () => {
    const created = await newUser();
    expect(await users.replacePasswordHash(created.id, "$argon2id$not-the-stored-one", "$argon2id$upgrade")).toBe(false);
    expect((await users.findCredentials(created.username))?.passwordHash).toBe("$argon2id$placeholder");
    expect(await users.replacePasswordHash(created.id, "$argon2id$placeholder", "$argon2id$upgrade")).toBe(true);
    expect((await users.findCredentials(created.username))?.passwordHash).toBe("$argon2id$upgrade");
  });

  it("disables and enables, reporting the state as a boolean on both databases", async () => {
    const created = await newUser();
    expect((await users.setDisabled(created.username, true)).disabled).toBe(true);
    expect((await users.findUserById(created.id))?.disabled).toBe(true);
    expect((await users.setDisabled(created.username, false)).disabled).toBe(false);
  });
});

/** ASCII letters and digits as their fullwidth forms (U+FF01..), which NFKC folds back. */
function toFullwidth(text: string): string {
  return text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
}
