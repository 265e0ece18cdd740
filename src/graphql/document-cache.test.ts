/** document-cache: entries counted by what they hold, and the bound kept. */
import { parse } from "graphql";
import { createDocumentStore, documentBytes } from "./document-cache";

describe("documentBytes", () => {
  it("counts the source text an entry keeps, which Apollo's JSON measure left out", () => {
    const padded = parse(`{ status } # ${"x".repeat(60_000)}`);
    expect(JSON.stringify(padded).length).toBeLessThan(1_000);
    expect(documentBytes(padded, "k")).toBeGreaterThan(60_000);
    // Characters beyond Latin-1 make V8 keep the whole text at two bytes each.
    expect(documentBytes(parse(`{ status } # ${"ж".repeat(30_000)}`), "k")).toBeGreaterThan(60_000);
  });

  it("grows with the tokens of the document", () => {
    const small = documentBytes(parse("{ status }"), "k");
    const aliased = documentBytes(parse(`{ ${Array.from({ length: 100 }, (_, i) => `a${i}: status`).join(" ")} }`), "k");
    expect(aliased - small).toBeGreaterThanOrEqual(300 * 100 * 3);
  });
});

describe("createDocumentStore", () => {
  it("holds at most its bound however many unique padded documents arrive", async () => {
    const bound = 1024 * 1024;
    const store = createDocumentStore(bound);
    for (let i = 0; i < 200; i++) await store.set(`key-${i}`, parse(`{ status } # ${i} ${"x".repeat(60_000)}`));
    expect(store.heldBytes).toBeLessThanOrEqual(bound);
    expect(await store.get("key-199")).toEqual(parse(`{ status } # 199 ${"x".repeat(60_000)}`));
    expect(await store.get("key-0")).toBeUndefined();
  });
});
