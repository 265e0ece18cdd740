/** buildAppSchema: the resolver classes are those of the instances given, one instance each. */
import { UserResolver } from "../users/user.resolver";
import { appResolvers, buildAppSchema, schemaOnlyDeps } from "./schema";

describe("buildAppSchema", () => {
  it("builds from appResolvers alone, in their order", async () => {
    const schema = await buildAppSchema(appResolvers(schemaOnlyDeps()));
    expect(Object.keys(schema.getQueryType()!.getFields())).toEqual(expect.arrayContaining(["me", "myItems", "status"]));
    expect(Object.keys(schema.getMutationType()!.getFields())).toContain("login");
  });

  it("refuses two instances of one resolver class, which type-graphql could not tell apart", async () => {
    await expect(buildAppSchema([new UserResolver(), new UserResolver()])).rejects.toThrow(/one instance per resolver class/);
  });

  it("refuses an empty list", async () => {
    await expect(buildAppSchema([])).rejects.toThrow(/at least one resolver/);
  });
});

describe("schemaOnlyDeps", () => {
  it("fails loudly when a resolver reaches for a dependency", () => {
    expect(() => schemaOnlyDeps().auth.users).toThrow(/built to be printed/);
  });
});
