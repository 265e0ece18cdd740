/** The GraphQL-over-HTTP audit suite of graphql-http against the running server: every MUST passes. */
import { serverAudits } from "graphql-http";
import { startTestServer, type TestServer } from "../harness";

describe("GraphQL over HTTP audits", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it("passes every MUST audit", async () => {
    const audits = serverAudits({ url: `${server.url}/graphql`, fetchFn: fetch });
    const musts = audits.filter((audit) => audit.name.startsWith("MUST"));
    expect(musts.length).toBeGreaterThan(10);
    const failures: string[] = [];
    for (const audit of musts) {
      const result = await audit.fn();
      if (result.status !== "ok") failures.push(`${audit.name}: ${result.reason}`);
    }
    expect(failures).toEqual([]);
  });
});
