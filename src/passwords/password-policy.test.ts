/** password-policy: one rule for choosing and for verifying a password (CONTRACT section 15). */
import { PasswordPolicyViolation } from "../errors";
import { checkNewPassword, isVerifiablePassword } from "./password-policy";

describe("checkNewPassword", () => {
  it("takes 8 to 1024 characters, counted as characters, not bytes", () => {
    expect(() => checkNewPassword("1234567")).toThrow("Password must be at least 8 characters");
    expect(() => checkNewPassword("x".repeat(1025))).toThrow("Password must be at most 1024 characters");
    expect(() => checkNewPassword("k7#Vq9!m")).not.toThrow();
    expect(() => checkNewPassword("€".repeat(1024))).not.toThrow();
    expect(() => checkNewPassword("🔑".repeat(1024))).not.toThrow();
    expect(() => checkNewPassword("🔑".repeat(7))).toThrow("at least 8");
  });

  it.each([
    ["a NUL", "abcd\0efgh", "Password must not contain a NUL character"],
    ["a lone high surrogate", "abcdefgh\ud800", "Password must be valid UTF-8"],
    ["a lone low surrogate", "\udc00abcdefgh", "Password must be valid UTF-8"],
    ["only spaces", " ".repeat(10), "Password must not be only white space"],
    ["only U+3000", "\u3000".repeat(8), "Password must not be only white space"],
    ["only NBSP, NEL and tabs", "\u00a0\u0085\t\u2028\u00a0\u0085\t\u2028", "Password must not be only white space"],
  ])("refuses %s, saying which rule", (_what, password, message) => {
    expect(() => checkNewPassword(password)).toThrow(message);
  });

  it("takes white space, symbols and astral characters inside a password", () => {
    for (const password of [
      "correct horse battery",
      "\u3000pass\u3000word\u3000",
      "\ufeff\ufeff\ufeff\ufeff\ufeff\ufeff\ufeff\ufeff",
      "🔑🔑🔑🔑🔑🔑🔑🔑",
    ]) {
      expect(() => checkNewPassword(password)).not.toThrow();
    }
  });
});

describe("checkNewPassword and the blocklist", () => {
  const common = ["password1", "Password1", "PASSWORD1", "qwertyuiop", "iloveyou1", "ILoveYou1", "12345678"];
  it.each(common)("refuses %s: Password is too common", (password) => {
    expect(() => checkNewPassword(password)).toThrow(new PasswordPolicyViolation("Password is too common"));
  });

  it("reports the length of a short common password, not its commonness", () => {
    expect(() => checkNewPassword("123456")).toThrow("Password must be at least 8 characters");
    expect(() => checkNewPassword("Passwor")).toThrow("Password must be at least 8 characters");
  });

  it("takes an uncommon password of the same shape", () => {
    expect(() => checkNewPassword("password1-but-longer-Zq7")).not.toThrow();
  });

  it("leaves login alone: a common password can still be verified", () => {
    expect(isVerifiablePassword("password1")).toBe(true);
    expect(isVerifiablePassword("PASSWORD1")).toBe(true);
  });
});

describe("isVerifiablePassword", () => {
  it("verifies short passwords (the demo user's `secret`, imported legacy ones) but nothing a new password could not be", () => {
    expect(isVerifiablePassword("secret")).toBe(true);
    expect(isVerifiablePassword("x")).toBe(true);
    expect(isVerifiablePassword("🔑".repeat(1024))).toBe(true);
    for (const unusable of ["", "   ", "\u3000\u3000", "a\0b", "x".repeat(1025), "🔑".repeat(1025), "ab\ud800", "\udfff"]) {
      expect(isVerifiablePassword(unusable)).toBe(false);
    }
  });

  it("accepts every password checkNewPassword accepts", () => {
    for (const password of ["k7#Vq9!m", "€".repeat(1024), "\u3000pass\u3000word", "🔑".repeat(8)]) {
      expect(() => checkNewPassword(password)).not.toThrow();
      expect(isVerifiablePassword(password)).toBe(true);
    }
  });
});
