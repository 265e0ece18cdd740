import { TOTP, Secret } from "otpauth";
import { generateTotpSecret, looksLikeTotpCode, matchTotpStep, otpauthUri, totpStep } from "./totp";

// RFC 6238 appendix B: the SHA-1 secret "12345678901234567890", 8 digits there; its last 6 here.
const RFC_SECRET = Secret.fromLatin1("12345678901234567890").base32;

describe("totp", () => {
  it("matches RFC 6238's test vectors (last six digits) and answers their step", () => {
    expect(matchTotpStep(RFC_SECRET, "287082", 59_000)).toBe(1);
    expect(matchTotpStep(RFC_SECRET, "081804", 1_111_111_109_000)).toBe(totpStep(1_111_111_109_000));
    expect(matchTotpStep(RFC_SECRET, "005924", 1_234_567_890_000)).toBe(41_152_263);
  });

  it("takes one step either way, not two, and nothing but six digits", () => {
    const secret = generateTotpSecret();
    const now = 1_900_000_000_000;
    const at = (ms: number) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: ms });
    expect(matchTotpStep(secret, at(now - 30_000), now)).toBe(totpStep(now) - 1);
    expect(matchTotpStep(secret, at(now + 30_000), now)).toBe(totpStep(now) + 1);
    expect(matchTotpStep(secret, at(now - 60_000), now)).toBeUndefined();
    expect(matchTotpStep(secret, at(now + 60_000), now)).toBeUndefined();
    expect(matchTotpStep(secret, `${at(now)}0`, now)).toBeUndefined();
    expect(matchTotpStep(secret, "12345a", now)).toBeUndefined();
    expect(looksLikeTotpCode("123 456")).toBe(true);
    expect(looksLikeTotpCode("abcde-12345")).toBe(false);
  });

  it("writes the URI in the contract's order, the label's parts escaped", () => {
    expect(otpauthUri("graphql-auth-server", "jo doe", "ABC")).toBe(
      "otpauth://totp/graphql-auth-server:jo%20doe?secret=ABC" + "&issuer=graphql-auth-server&algorithm=SHA1&digits=6&period=30",
    );
    expect(generateTotpSecret()).toMatch(/^[A-Z2-7]{32}$/);
  });
});
