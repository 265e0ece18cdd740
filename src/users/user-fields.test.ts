import { InvalidEmail, InvalidFullName, InvalidUsername } from "../errors";
import { isHighlyRestrictive } from "./scripts";
import { skeleton } from "./skeleton";
import { checkEmail, checkFullName, checkNewUsername, checkUserFields, skeletonKey, usernameKey } from "./user-fields";

/** The error a check throws, for asserting its class, fixed message and reason together. */
function thrown(check: () => unknown): { name: string; message: string; reason: string } {
  try {
    check();
  } catch (error) {
    const { name, message, reason } = error as { name: string; message: string; reason: string };
    return { name, message, reason };
  }
  throw new Error("expected the check to throw");
}

describe("checkNewUsername", () => {
  it.each([
    "johndoe",
    "jean-luc.picard",
    "用户名",
    "иван",
    "user_42@example",
    "Ölçü",
    "tokyo東京",
    "やまだ太郎",
    "서울seoul",
    "ελληνικά",
    "שלום42",
  ])("accepts %s", (name) => {
    expect(checkNewUsername(name)).toBe(name);
  });

  it("returns the NFKC, trimmed form, case kept", () => {
    expect(checkNewUsername("  ＪｏｈｎＤｏｅ ")).toBe("JohnDoe");
  });

  it.each([
    ["\u0458ohndoe", "Cyrillic ј among Latin", "mixes scripts (Cyrillic, Latin)"],
    ["g\u03BFogle", "Greek omicron among Latin", "mixes scripts (Latin, Greek)"],
    ["pay\u0440al\u0570", "Latin, Cyrillic and Armenian", "mixes scripts (Latin, Cyrillic, Armenian)"],
    ["\u0570\u0565\u043B\u043B\u043E", "Armenian with Cyrillic", "mixes scripts (Armenian, Cyrillic)"],
    ["abc\u13A0", "Latin with Cherokee (not a Recommended script)", "mixes scripts (Latin, Cherokee)"],
  ])("refuses %j (%s)", (name, _why, reason) => {
    expect(thrown(() => checkNewUsername(name))).toEqual({ name: "InvalidUsername", message: "Invalid username", reason });
  });

  it.each([
    ["", "must not be empty"],
    ["x".repeat(151), "must be at most 150 characters"],
    ["has space", "may contain only letters, digits and . _ @ + -"],
    ["john\u200Bdoe", "may contain only letters, digits and . _ @ + -"],
    ["john\u202Edoe", "may contain only letters, digits and . _ @ + -"],
    ["john\u3164doe", "may contain only letters, digits and . _ @ + -"],
  ])("refuses %j: %s", (name, reason) => {
    expect(thrown(() => checkNewUsername(name))).toEqual({ name: "InvalidUsername", message: "Invalid username", reason });
  });
});

describe("skeletons (UTS #39 section 4)", () => {
  it("maps look-alikes to one skeleton: NFD, confusables.txt, NFD", () => {
    expect(skeleton("\u0458ohndoe")).toBe("johndoe");
    expect(skeleton("m")).toBe("rn");
    expect(skeleton("paypaI")).toBe("paypal");
    // NFD first: é (one code point) and e + U+0301 have one skeleton.
    expect(skeleton("caf\u00E9")).toBe(skeleton("cafe\u0301"));
  });

  it("gives a username's look-alikes, in any case, one key, and different names different keys", () => {
    const key = skeletonKey("johndoe");
    for (const lookAlike of ["JohnDoe", "\u0458ohndoe", "J\u043EHNDOE", "j0hndoe", "ｊｏｈｎｄｏｅ"])
      expect(skeletonKey(lookAlike)).toBe(key);
    expect(skeletonKey("paypaI")).toBe(skeletonKey("paypal"));
    expect(skeletonKey("amold")).toBe(skeletonKey("arnold"));
    for (const other of ["janedoe", "johndoe2", "иван", "用户名"]) expect(skeletonKey(other)).not.toBe(key);
  });

  it("leaves usernameKey, which logins match on, as it was", () => {
    expect(usernameKey(" ＪohnDoe ")).toBe("johndoe");
    expect(usernameKey("paypaI")).toBe("paypai");
  });
});

describe("isHighlyRestrictive", () => {
  it("treats digits and punctuation as any script", () => {
    expect(isHighlyRestrictive("42._@+-")).toBe(true);
    expect(isHighlyRestrictive("иван_42")).toBe(true);
  });

  it("allows Latin with the scripts of Japanese, Chinese or Korean, or one Recommended script but Cyrillic and Greek", () => {
    expect(isHighlyRestrictive("abcひらがなカタカナ漢字")).toBe(true);
    expect(isHighlyRestrictive("abc注音ㄅㄆ")).toBe(true);
    expect(isHighlyRestrictive("abc한국韓國")).toBe(true);
    expect(isHighlyRestrictive("abcשלום")).toBe(false);
    expect(isHighlyRestrictive("ひらがな한국")).toBe(false);
    expect(isHighlyRestrictive("abcשלוםسلام")).toBe(false);
    expect(isHighlyRestrictive("abc\u0430")).toBe(false);
    expect(isHighlyRestrictive("abc\u03B1")).toBe(false);
  });

  it("refuses a Latin name with one Armenian look-alike letter, whose skeleton is Latin's too", () => {
    // UTS #39's moderately restrictive level would allow Latin with Armenian; CONTRACT 15 does not.
    expect(isHighlyRestrictive("n\u057Dll")).toBe(false);
    expect(skeletonKey("n\u057Dll")).toBe(skeletonKey("null"));
  });
});

describe("checkEmail and checkFullName", () => {
  it("accept ordinary values, trimmed (and the name NFC)", () => {
    expect(checkEmail(" ann@example.com ")).toBe("ann@example.com");
    expect(checkEmail("josé@exämple.de")).toBe("josé@exämple.de");
    expect(checkFullName(" Jose\u0301 Núñez ")).toBe("José Núñez");
    expect(checkFullName("王小明")).toBe("王小明");
  });

  it.each(["202E", "200B", "200D", "FEFF", "2066", "061C", "0000", "000A", "2028"])("refuse U+%s in either", (hex) => {
    const char = String.fromCodePoint(parseInt(hex, 16));
    expect(thrown(() => checkEmail(`ann${char}@example.com`))).toEqual({
      name: "InvalidEmail",
      message: "Invalid email",
      reason: "contains control or format characters",
    });
    expect(thrown(() => checkFullName(`Ann${char}Example`))).toEqual({
      name: "InvalidFullName",
      message: "Invalid full name",
      reason: "contains control or format characters",
    });
  });

  it("refuse what is not an address, and names out of bounds", () => {
    for (const bad of ["not-an-address", "not an address", "a@b@c", "@example.com", `${"a".repeat(250)}@b.cd`]) {
      expect(thrown(() => checkEmail(bad))).toEqual({
        name: "InvalidEmail",
        message: "Invalid email",
        reason: "does not look like an address",
      });
    }
    for (const bad of ["", "   ", "n".repeat(256)]) {
      expect(thrown(() => checkFullName(bad))).toEqual({
        name: "InvalidFullName",
        message: "Invalid full name",
        reason: "must be 1 to 255 characters",
      });
    }
  });

  it("are what checkUserFields applies, absent and null fields left alone", () => {
    expect(checkUserFields({ username: "ann", email: null })).toEqual({
      username: "ann",
      usernameKey: "ann",
      skeletonKey: skeletonKey("ann"),
      email: null,
      fullName: undefined,
    });
    expect(() => checkUserFields({ username: "ann", fullName: "A\u202Enn" })).toThrow(InvalidFullName);
    expect(() => checkUserFields({ username: "ann", email: "a\u200B@b.co" })).toThrow(InvalidEmail);
    expect(() => checkUserFields({ username: "\u0430nn" })).toThrow(InvalidUsername);
  });
});
