/** authChecker: every listed scope, then an active user unless the field allows inactive ones. */
import { type GraphQLResolveInfo, type GraphQLSchema } from "graphql";
import { appResolvers, buildAppSchema, schemaOnlyDeps } from "../graphql/schema";
import { type User } from "../users/user.entity";
import { authChecker } from "./auth-checker";
import { contextForViewer } from "./context";

const active: User = {
  id: "6f1c1f8e-2f43-4a4e-9d1e-0c7f3c1b5a10",
  username: "ada",
  email: null,
  fullName: null,
  disabled: false,
  scopes: ["me", "items"],
  emailVerified: true,
};
const disabled: User = { ...active, disabled: true };

describe("authChecker", () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildAppSchema(appResolvers(schemaOnlyDeps()));
  });

  /** What type-graphql hands the checker for a root field of the real schema. */
  function check(field: "me" | "myItems" | "status", user: User | undefined, tokenScopes: string[], required: string[]) {
    const info = { parentType: schema.getQueryType()!, fieldName: field } as GraphQLResolveInfo;
    const context = contextForViewer(user && { user, scopes: tokenScopes, tokenId: "test", issuedAt: 0 });
    return authChecker({ context, info, root: undefined, args: {} }, required);
  }

  it("passes a viewer holding every required scope", async () => {
    await expect(check("myItems", active, ["me", "items"], ["me", "items"])).resolves.toBe(true);
  });

  it("refuses a viewer holding only some of them, naming all in the error", async () => {
    await expect(check("myItems", active, ["me"], ["me", "items"])).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: "Not enough permissions",
      requiredScopes: ["me", "items"],
    });
  });

  it("refuses a disabled user on a field that needs an active one", async () => {
    await expect(check("me", disabled, ["me"], ["me"])).rejects.toMatchObject({ code: "FORBIDDEN", message: "Inactive user" });
  });

  it("lets a disabled user through on a field marked @AllowInactive (status)", async () => {
    await expect(check("status", disabled, [], [])).resolves.toBe(true);
  });

  it("rejects without a viewer before looking at anything else", async () => {
    await expect(check("status", undefined, [], [])).rejects.toMatchObject({ code: "UNAUTHENTICATED", message: "Not authenticated" });
  });
});
