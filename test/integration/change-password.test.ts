import { loginPair, refreshMutation, whoAmI } from "../support";
import { DIALECTS, startTestServer, type TestServer } from "../harness";

const CHANGE =
  "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken refreshToken tokenType expiresIn scope } }";

describe.each(DIALECTS)("changePassword (%s)", (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dialect });
  });
  afterAll(async () => server?.close());

  it("needs a token", async () => {
    const response = await server.gql(CHANGE, { c: "whatever1", n: "whatever2" });
    expect(response.body.errors?.[0]).toMatchObject({ message: "Not authenticated", extensions: { code: "UNAUTHENTICATED" } });
  });

  it("refuses a wrong current password, and changes nothing", async () => {
    const { username, password } = await server.createUser();
    const pair = await loginPair(server, username, password);
    const response = await server.gql(CHANGE, { c: `${password}x`, n: "a-new-password" }, { token: pair.accessToken });
    expect(response.body.errors?.[0]).toMatchObject({ message: "Incorrect password", extensions: { code: "UNAUTHENTICATED" } });
    expect(await whoAmI(server, pair.accessToken)).toBe(username);
    await loginPair(server, username, password);
  });

  it.each([
    ["7", "x".repeat(7), "Password must be at least 8 characters"],
    ["1025", "x".repeat(1025), "Password must be at most 1024 characters"],
  ])("refuses a new password of %s characters with BAD_USER_INPUT naming the bound", async (_n, newPassword, message) => {
    const { username, password } = await server.createUser();
    const pair = await loginPair(server, username, password);
    const response = await server.gql(CHANGE, { c: password, n: newPassword }, { token: pair.accessToken });
    expect(response.body.errors?.[0]).toMatchObject({ message, extensions: { code: "BAD_USER_INPUT" } });
    expect(await whoAmI(server, pair.accessToken)).toBe(username);
  });

  it("accepts exactly 8 and 1024 characters", async () => {
    const { username, password } = await server.createUser();
    let current = password;
    let token = (await loginPair(server, username, current)).accessToken;
    // Eight characters, but not on the blocklist ("eeeeeeee" is).
    for (const next of ["e7#Vq9!m", "f".repeat(1024)]) {
      const response = await server.gql(CHANGE, { c: current, n: next }, { token });
      expect(response.body.errors).toBeUndefined();
      token = response.body.data.changePassword.accessToken;
      current = next;
    }
  });

  it("revokes every earlier token and returns a working pair from a new login", async () => {
    const { username, password } = await server.createUser();
    const before = await loginPair(server, username, password);
    const elsewhere = await loginPair(server, username, password);

    const response = await server.gql(CHANGE, { c: password, n: "correct horse battery" }, { token: before.accessToken });
    expect(response.body.errors).toBeUndefined();
    const fresh = response.body.data.changePassword;
    expect(fresh).toMatchObject({ tokenType: "bearer", scope: "me items", expiresIn: 1800 });

    for (const token of [before.accessToken, elsewhere.accessToken]) {
      expect(await whoAmI(server, token)).toEqual({ code: "UNAUTHENTICATED", message: "Could not validate credentials" });
    }
    for (const token of [before.refreshToken, elsewhere.refreshToken]) {
      expect((await refreshMutation(server, token)).body.errors?.[0]).toMatchObject({
        message: "Invalid refresh token",
        extensions: { code: "UNAUTHENTICATED" },
      });
    }
    // Issued in the same second as the revocation, and accepted: it was issued after it.
    expect(await whoAmI(server, fresh.accessToken)).toBe(username);
    const rotated = await refreshMutation(server, fresh.refreshToken);
    expect(await whoAmI(server, rotated.body.data!.refresh.accessToken)).toBe(username);

    const old = await server.gql("mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }", {
      u: username,
      p: password,
    });
    expect(old.body.errors?.[0]).toMatchObject({ message: "Incorrect username or password" });
    await loginPair(server, username, "correct horse battery");
  });

  it("keeps the scopes of the token it was called with", async () => {
    const { username, password } = await server.createUser();
    const narrow = await loginPair(server, username, password, ["me"]);
    const response = await server.gql(CHANGE, { c: password, n: "another password" }, { token: narrow.accessToken });
    expect(response.body.data.changePassword.scope).toBe("me");
  });

  it("refuses a disabled account", async () => {
    const { username, password } = await server.createUser();
    const pair = await loginPair(server, username, password);
    await server.app.users.setDisabled(username, true);
    const response = await server.gql(CHANGE, { c: password, n: "another password" }, { token: pair.accessToken });
    expect(response.body.errors?.[0]).toMatchObject({ message: "Inactive user", extensions: { code: "FORBIDDEN" } });
  });
});
