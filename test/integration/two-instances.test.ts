/** Two app instances on one database, as behind a load balancer: whatever one decides, the other honours. */
import { cliEnv, runCli } from "../cli/run-cli";
import { DIALECTS, startTestServer, type TestServer } from "../harness";

describe.each(DIALECTS)("two instances on one database (%s)", (dialect) => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    a = await startTestServer({ dialect });
    // Same database and the same SECRET_KEY (testConfig), as every instance of a deployment has.
    b = await startTestServer({ databaseUrl: a.database.url });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("accepts on B a token issued by A, and the reverse", async () => {
    const { username, password } = await a.createUser();
    const fromA = await a.login(username, password);
    const fromB = await b.login(username, password);
    expect((await b.gql("{ me { username } myItems { owner } }", {}, { token: fromA })).body).toEqual({
      data: { me: { username }, myItems: [{ owner: username }] },
    });
    expect((await a.gql("{ me { username } }", {}, { token: fromB })).body).toEqual({ data: { me: { username } } });
  });

  it("refuses on both instances, at the next request, a user an operator disabled with the CLI", async () => {
    const { username, password } = await a.createUser();
    const token = await a.login(username, password);
    expect((await b.gql("{ me { username } }", {}, { token })).body.errors).toBeUndefined();

    // The CLI is a third process on the same database; neither server is told anything.
    expect(await runCli(["users", "disable", username], cliEnv(a.database.url))).toMatchObject({ code: 0, stderr: "" });

    for (const instance of [a, b]) {
      const response = await instance.gql("{ me { username } status }", {}, { token });
      expect(response.body.errors?.[0]).toMatchObject({ message: "Inactive user", extensions: { code: "FORBIDDEN" }, path: ["me"] });
      // A disabled user's token is still valid for `status` (CONTRACT section 3).
      expect(response.body.data).toBeNull();
      const status = await instance.gql("{ status }", {}, { token });
      expect(status.body).toEqual({ data: { status: "ok" } });
      const login = await instance.gql("mutation L($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }", { u: username, p: password });
      expect(login.body.errors?.[0]).toMatchObject({ message: "Inactive user", extensions: { code: "FORBIDDEN" } });
    }
  });
});
