import { DIALECTS, startTestServer, type TestServer } from "../harness";

describe.each(DIALECTS)("login and me (%s)", (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dialect });
  });
  afterAll(async () => server?.close());

  it("logs in and answers me, myItems and status with the token", async () => {
    const { username, password, id } = await server.createUser();
    const token = await server.login(username, password);
    const response = await server.gql("{ me { id username scopes disabled } myItems { itemId owner } status }", {}, { token });
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data).toEqual({
      me: { id, username, scopes: ["me", "items"], disabled: false },
      myItems: [{ itemId: "Foo", owner: username }],
      status: "ok",
    });
  });

  it("answers Not authenticated without a header", async () => {
    const response = await server.gql("{ me { id } }");
    expect(response.body.errors?.[0]).toMatchObject({ message: "Not authenticated", extensions: { code: "UNAUTHENTICATED" } });
    expect(response.headers.get("www-authenticate")).toBe("Bearer");
  });
});
