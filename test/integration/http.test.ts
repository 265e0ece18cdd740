/** CONTRACT section 7's HTTP surface: health probes and 4xx JSON answers to malformed requests. */
import { DIALECTS, startTestServer, type TestServer } from "../harness";

/** A 4xx with a JSON body and nothing that looks like a stack trace. */
async function expectClientErrorJson(response: Response, status: number): Promise<Record<string, unknown>> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const text = await response.text();
  expect(text).not.toMatch(/stack|\n\s+at |\.ts:\d+|node_modules/);
  return JSON.parse(text) as Record<string, unknown>;
}

describe.each(DIALECTS)("HTTP around GraphQL (%s)", (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dialect });
  });
  afterAll(async () => server?.close());

  const post = (body: string, contentType?: string) =>
    fetch(`${server.url}/graphql`, { method: "POST", headers: contentType ? { "content-type": contentType } : {}, body });

  it("answers /healthz and /readyz with 200 while the database answers", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: "ok" });
    }
  });

  it("answers malformed JSON with 400 and a JSON body", async () => {
    await expectClientErrorJson(await post('{"query": "{ status }"', "application/json"), 400);
  });

  it("answers an empty JSON body with 400 and a JSON body", async () => {
    await expectClientErrorJson(await post("", "application/json"), 400);
  });

  it("answers an unsupported content type with 415 and a JSON body", async () => {
    for (const type of ["application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      await expectClientErrorJson(await post('{"query":"{ status }"}', type), 415);
    }
  });

  it("blocks text/plain and a missing content type as possible CSRF, with a GraphQL JSON error", async () => {
    for (const type of ["text/plain", undefined]) {
      const body = await expectClientErrorJson(await post('{"query":"{ status }"}', type), 400);
      expect(body.errors).toEqual([expect.objectContaining({ message: expect.stringContaining("Cross-Site Request Forgery") })]);
    }
  });

  it("answers a body over the limit with 413 and a JSON body", async () => {
    const query = `{ status } # ${"x".repeat(70_000)}`;
    await expectClientErrorJson(await post(JSON.stringify({ query }), "application/json"), 413);
  });

  it("answers JSON that is not an operation, and a batch while batching is off, with 400", async () => {
    for (const body of ["null", '"text"', "[]", '[{"query":"{ status }"},{"query":"{ status }"}]']) {
      const answer = await expectClientErrorJson(await post(body, "application/json"), 400);
      expect(answer.errors).toEqual([expect.objectContaining({ extensions: { code: "BAD_REQUEST" } })]);
    }
  });

  it("answers an unknown path with 404 and a JSON body", async () => {
    expect(await expectClientErrorJson(await fetch(`${server.url}/nope`), 404)).toEqual({ error: "not_found", message: "Not found" });
  });

  it("answers a query with a syntax error or an unknown field with 400 and the GraphQL code", async () => {
    const syntax = await expectClientErrorJson(await post(JSON.stringify({ query: "{ status" }), "application/json"), 400);
    expect(syntax.errors).toEqual([expect.objectContaining({ extensions: { code: "GRAPHQL_PARSE_FAILED" } })]);
    const unknown = await expectClientErrorJson(await post(JSON.stringify({ query: "{ secrets }" }), "application/json"), 400);
    expect(unknown.errors).toEqual([expect.objectContaining({ extensions: { code: "GRAPHQL_VALIDATION_FAILED" } })]);
  });

  it("answers a variable of the wrong type with 400 before any check of the password", async () => {
    const body = JSON.stringify({
      query: "mutation L($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }",
      variables: { u: "someone", p: 1 },
    });
    const answer = await expectClientErrorJson(await post(body, "application/json"), 400);
    expect(answer.errors).toEqual([expect.objectContaining({ extensions: { code: "BAD_USER_INPUT" } })]);
  });
});
