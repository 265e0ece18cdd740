/** The demo users of CONTRACT section 5: johndoe's tutorial bcrypt hash becomes argon2id at his first login. */
import { DIALECTS, startTestServer, type TestServer } from "../harness";

const TUTORIAL_HASH = "$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW";
const LOGIN = "mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken scope } }";

describe.each(DIALECTS)("demo users (%s)", (dialect) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ dialect, env: { SEED_DEMO_USERS: "true" } });
  });
  afterAll(async () => server?.close());

  /** The stored row, read straight from the database with Kysely. */
  const row = (username: string) =>
    server.app.database.db.selectFrom("users").selectAll().where("username", "=", username).executeTakeFirstOrThrow();

  it("seeds johndoe and alice as the tutorial has them", async () => {
    expect(await server.app.users.listUsers()).toEqual([
      {
        id: expect.any(String),
        username: "alice",
        email: "alicechains@example.com",
        fullName: "Alice Chains",
        disabled: true,
        scopes: ["me", "items"],
        emailVerified: true,
      },
      {
        id: expect.any(String),
        username: "johndoe",
        email: "johndoe@example.com",
        fullName: "John Doe",
        disabled: false,
        scopes: ["me", "items"],
        emailVerified: true,
      },
    ]);
  });

  it("upgrades johndoe's tutorial bcrypt hash to argon2id (m, t, p order) at his first login, once", async () => {
    expect((await row("johndoe")).password_hash).toBe(TUTORIAL_HASH);

    const first = await server.gql(LOGIN, { u: "johndoe", p: "secret" });
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.login.scope).toBe("me items");

    const upgraded = (await row("johndoe")).password_hash!;
    // The test policy (harness testConfig): m=1024 KiB, t=1, p=1, written in the PHC order.
    expect(upgraded).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);

    const again = await server.gql(LOGIN, { u: "johndoe", p: "secret" });
    expect(again.body.errors).toBeUndefined();
    const token = again.body.data.login.accessToken as string;
    expect((await server.gql("{ me { username fullName } }", {}, { token })).body).toEqual({
      data: { me: { username: "johndoe", fullName: "John Doe" } },
    });
    // A hash already under the current policy is not rewritten.
    expect((await row("johndoe")).password_hash).toBe(upgraded);

    const wrong = await server.gql(LOGIN, { u: "johndoe", p: "Secret" });
    expect(wrong.body.errors).toEqual([
      expect.objectContaining({ message: "Incorrect username or password", extensions: { code: "UNAUTHENTICATED" } }),
    ]);
    expect((await row("johndoe")).password_hash).toBe(upgraded);
  });

  it("matches the username case-insensitively", async () => {
    const response = await server.gql(LOGIN, { u: "JohnDoe", p: "secret" });
    expect(response.body.errors).toBeUndefined();
  });

  it("answers alice's correct password with Inactive user, and her wrong one as for anyone", async () => {
    const right = await server.gql(LOGIN, { u: "alice", p: "secret2" });
    expect(right.body).toEqual({
      data: null,
      errors: [expect.objectContaining({ message: "Inactive user", extensions: { code: "FORBIDDEN" } })],
    });
    const wrong = await server.gql(LOGIN, { u: "alice", p: "secret" });
    expect(wrong.body.errors).toEqual([
      expect.objectContaining({ message: "Incorrect username or password", extensions: { code: "UNAUTHENTICATED" } }),
    ]);
  });
});
