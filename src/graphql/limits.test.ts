import { buildSchema, getIntrospectionQuery, parse, specifiedRules, validate } from "graphql";
import { queryLimitsRule } from "./limits";

const schema = buildSchema(`
  type User { id: ID! name: String friend: User }
  type Query { me: User! }
  type Mutation { login(username: String!): String! }
`);
const rule = queryLimitsRule({ maxAliases: 3, maxDepth: 4, maxDirectives: 5 });
const errorsOf = (query: string) => validate(schema, parse(query), [...specifiedRules, rule]).map((e) => e.message);

describe("queryLimitsRule", () => {
  it("counts aliases, including those inside fragments, once per spread", () => {
    expect(errorsOf('mutation { a: login(username: "x") b: login(username: "y") c: login(username: "z") }')).toEqual([]);
    expect(
      errorsOf('mutation { a: login(username: "x") b: login(username: "y") c: login(username: "z") d: login(username: "w") }'),
    ).toEqual(["Query has 4 aliases; at most 3 are allowed."]);
    expect(errorsOf("{ me { ...F } x: me { ...F friend { ...F } } } fragment F on User { a: id }")).toEqual([
      "Query has 4 aliases; at most 3 are allowed.",
    ]);
  });

  it("does not count aliases of __typename", () => {
    expect(errorsOf("{ me { a: __typename b: __typename c: __typename d: __typename } }")).toEqual([]);
  });

  it("counts depth in nested fields, through fragments", () => {
    expect(errorsOf("{ me { friend { friend { id } } } }")).toEqual([]);
    expect(errorsOf("{ me { friend { friend { friend { id } } } } }")).toEqual(["Query is 5 levels deep; at most 4 are allowed."]);
    expect(errorsOf("{ me { ...F } } fragment F on User { friend { ... on User { friend { friend { id } } } } }")).toEqual([
      "Query is 5 levels deep; at most 4 are allowed.",
    ]);
  });

  it("lets the full introspection query through, yet counts an aliased __schema as an alias", () => {
    expect(errorsOf(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true }))).toEqual([]);
    expect(errorsOf("{ a: __schema { t: types { n: name } } b: __schema { types { name } } }")).toEqual([]);
    expect(
      errorsOf(
        '{ a: __schema { types { name } } b: __schema { types { name } } c: __schema { types { name } } d: __type(name: "User") { name } }',
      ),
    ).toEqual(["Query has 4 aliases; at most 3 are allowed."]);
  });

  it("counts directives everywhere", () => {
    expect(
      errorsOf(
        "{ me @include(if: true) { id @skip(if: false) name @include(if: true) ...F @skip(if: false) } } fragment F on User { friend @skip(if: false) { id @include(if: true) } }",
      ),
    ).toEqual(["Query has 6 directives; at most 5 are allowed."]);
  });

  it("measures a fragment fan-out without expanding it, and survives fragment cycles", () => {
    let query = "{ me { ...F0 } }";
    for (let i = 0; i < 40; i++) query += ` fragment F${i} on User { ...F${i + 1} ...F${i + 1} }`;
    query += " fragment F40 on User { id }";
    expect(errorsOf(query)).toEqual([]);
    let aliased = "{ me { ...A0 } }";
    for (let i = 0; i < 40; i++) aliased += ` fragment A${i} on User { x: friend { ...A${i + 1} } }`;
    aliased += " fragment A40 on User { id }";
    expect(errorsOf(aliased)).toEqual(
      expect.arrayContaining(["Query has 40 aliases; at most 3 are allowed.", "Query is 42 levels deep; at most 4 are allowed."]),
    );
    const cyclic = errorsOf("{ me { ...A } } fragment A on User { friend { ...B } } fragment B on User { friend { ...A } }");
    expect(cyclic.some((m) => m.includes("Cannot spread fragment"))).toBe(true);
  });
});
