/** ItemResolver without HTTP: myItems as a method, then through Apollo where "me" and "items" are both needed. */
import { contextForViewer } from "../../src/auth/context";
import { ItemResolver } from "../../src/items/item.resolver";
import { createTestApp, type TestApp, type TestUser } from "../harness";

describe("ItemResolver", () => {
  let t: TestApp;
  let owner: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    owner = await t.createUser({ prefix: "owner" });
  });
  afterAll(async () => t?.close());

  it("level 1: myItems() lists the tutorial's item, owned by the viewer", async () => {
    const ctx = contextForViewer({ user: owner.user, scopes: ["me", "items"], tokenId: "test", issuedAt: 0 });
    expect(await new ItemResolver().myItems(ctx)).toEqual([{ itemId: "Foo", owner: owner.username }]);
  });

  describe('level 2: @Authorized("me", "items") needs every scope, not some', () => {
    const MY_ITEMS = "{ myItems { itemId owner } }";

    it("answers a token with both scopes", async () => {
      const result = await t.execute(MY_ITEMS, {}, { token: await t.tokenFor(owner.id, ["me", "items"]) });
      expect(result).toMatchObject({ data: { myItems: [{ itemId: "Foo", owner: owner.username }] } });
      expect(result.errors).toBeUndefined();
    });

    it.each([[["me"]], [["items"]], [[]]])("refuses a token with scopes %j, naming both in the challenge", async (scopes) => {
      const result = await t.execute(MY_ITEMS, {}, { token: await t.tokenFor(owner.id, scopes) });
      expect(result.data).toBeNull();
      expect(result.errors).toEqual([
        expect.objectContaining({ message: "Not enough permissions", extensions: { code: "FORBIDDEN" }, path: ["myItems"] }),
      ]);
      expect(result.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", scope="me items"');
    });

    it("honours only the scopes the account still holds", async () => {
      const demoted = await t.createUser({ prefix: "demoted", scopes: ["me"] });
      const result = await t.execute(MY_ITEMS, {}, { token: await t.tokenFor(demoted.id, ["me", "items"]) });
      expect(result.errors).toEqual([expect.objectContaining({ message: "Not enough permissions" })]);
    });
  });
});
