/** scopes: the grammar of RFC 6749 section 3.3 for requests and for our own lists; granting and narrowing. */
import { InvalidScope, ScopeNotGranted, UnknownScope } from "../errors";
import { grantScopes, isScopeToken, narrowScopes, parseRequestedScopes, readScopeList } from "./scopes";

describe("parseRequestedScopes", () => {
  it.each([
    [["me items"], ["me", "items"]],
    [
      ["me", "items", "me"],
      ["me", "items"],
    ],
    [
      ["me items", "items"],
      ["me", "items"],
    ],
    [["a!#[]~"], ["a!#[]~"]],
    [[], []],
  ])("reads %j as %j", (entries, scopes) => {
    expect(parseRequestedScopes(entries)).toEqual(scopes);
  });

  it("leaves an absent request absent", () => {
    expect(parseRequestedScopes(undefined)).toBeUndefined();
    expect(parseRequestedScopes(null)).toBeUndefined();
  });

  it.each([
    ["NBSP as a separator", "me\u00a0items"],
    ["U+3000 as a separator", "me\u3000items"],
    ["a tab", "me\titems"],
    ["a newline", "me\nitems"],
    ["two spaces", "me  items"],
    ["a leading space", " me"],
    ["a trailing space", "me "],
    ["an empty entry", ""],
    ["a double quote", 'me"'],
    ["a backslash", "me\\"],
    ["a NUL", "me\0"],
    ["DEL", "me\x7f"],
    ["an escape sequence", "\x1b[31mme"],
    ["a non-ASCII letter", "mé"],
  ])("refuses %s with the fixed message", (_what, entry) => {
    expect(() => parseRequestedScopes([entry])).toThrow(new InvalidScope());
    expect(() => parseRequestedScopes(["me", entry])).toThrow("Invalid scope");
  });

  it("bounds the request's length, over all entries", () => {
    const longest = `me ${"x".repeat(1021)}`;
    expect(parseRequestedScopes([longest])).toHaveLength(2);
    expect(() => parseRequestedScopes([`${longest}x`])).toThrow("Invalid scope");
    expect(() => parseRequestedScopes(["x".repeat(60_000)])).toThrow("Invalid scope");
    expect(() => parseRequestedScopes(Array.from({ length: 10_000 }, () => "me"))).toThrow("Invalid scope");
  });

  it("never puts the request in the error", () => {
    try {
      parseRequestedScopes(["secret\u3000text"]);
      throw new Error("not refused");
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidScope);
      expect((error as InvalidScope).message).toBe("Invalid scope");
      expect((error as InvalidScope).token).toBeUndefined();
    }
  });
});

describe("readScopeList", () => {
  it.each([
    ["me items", ["me", "items"]],
    ["  me\titems\n", ["me", "items"]],
    ["me  me items", ["me", "items"]],
    ["", []],
    ["   ", []],
  ])("reads %j as %j", (text, scopes) => {
    expect(readScopeList(text)).toEqual(scopes);
  });

  it.each([["me\u00a0items"], ["me\u3000items"], ['me "quoted"'], ["me\x0bitems"]])(
    "refuses %j, naming the token for an operator",
    (text) => {
      expect(() => readScopeList(text)).toThrow(InvalidScope);
      try {
        readScopeList(text);
      } catch (error) {
        expect(isScopeToken((error as InvalidScope).token!)).toBe(false);
      }
    },
  );
});

describe("grantScopes and narrowScopes", () => {
  it("grants every held scope without a request, exactly the requested ones with one", () => {
    expect(grantScopes(["me", "items"], undefined)).toEqual(["me", "items"]);
    expect(grantScopes(["me", "items"], ["items"])).toEqual(["items"]);
    expect(grantScopes(["me", "items"], [])).toEqual([]);
    expect(() => grantScopes(["me"], ["me", "admin"])).toThrow(new UnknownScope("admin"));
  });

  it("narrows a refresh, never widens it", () => {
    expect(narrowScopes(["me", "items"], undefined)).toEqual(["me", "items"]);
    expect(narrowScopes(["me", "items"], ["me"])).toEqual(["me"]);
    expect(() => narrowScopes(["me"], ["items"])).toThrow(new ScopeNotGranted("items"));
  });
});
