/** schema.graphql is byte for byte what the code prints and what the running server serves (CONTRACT section 3). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildClientSchema, getIntrospectionQuery, printSchema, type IntrospectionQuery } from "graphql";
import { printAppSchema } from "../../src/graphql/print-schema";
import { DIALECTS, startTestServer, type TestServer } from "../harness";

const committed = readFileSync(join(__dirname, "..", "..", "schema.graphql"), "utf8");

// When these fail: `npm run schema`, review the diff, commit schema.graphql with the change.
it("schema.graphql equals printAppSchema() byte for byte", async () => {
  const printed = await printAppSchema();
  expect(printed).toBe(committed);
});

describe.each(DIALECTS)("the served schema (%s)", (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dialect });
  });
  afterAll(async () => server?.close());

  it("equals schema.graphql once introspected and printed", async () => {
    const response = await server.gql<IntrospectionQuery>(getIntrospectionQuery());
    expect(response.body.errors).toBeUndefined();
    const served = `${printSchema(buildClientSchema(response.body.data!))}\n`;
    expect(served).toBe(committed);
  });
});
