import { randomBytes } from "node:crypto";
import { mfaKeysFrom, openSecret, sealSecret } from "./secret-box";

describe("secret box", () => {
  const key = mfaKeysFrom({ encryptionKey: randomBytes(32) }).seal!;

  it("opens what it sealed for the same user only, under the same key only", () => {
    const box = sealSecret(key, "user-1", "JBSWY3DPEHPK3PXP");
    expect(box).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(box).not.toContain("JBSWY3DPEHPK3PXP");
    expect(openSecret([key], "user-1", box)).toBe("JBSWY3DPEHPK3PXP");
    expect(openSecret([key], "user-2", box)).toBeUndefined();
    expect(openSecret(mfaKeysFrom({ encryptionKey: randomBytes(32) }).open, "user-1", box)).toBeUndefined();
    const altered = box.slice(0, -2) + (box.endsWith("A") ? "BB" : "AA");
    expect(openSecret([key], "user-1", altered)).toBeUndefined();
    expect(openSecret([key], "user-1", "garbage")).toBeUndefined();
  });

  it("derives a stable key from SECRET_KEY; MFA_ENCRYPTION_KEY seals, both open; none without either", () => {
    const secret = Buffer.from("test-secret-key-that-is-at-least-32-bytes-long");
    const derivedOnly = mfaKeysFrom({ signingSecret: secret });
    const box = sealSecret(derivedOnly.seal!, "u", "S");
    expect(openSecret(mfaKeysFrom({ signingSecret: Buffer.from(secret) }).open, "u", box)).toBe("S");
    const both = mfaKeysFrom({ encryptionKey: randomBytes(32), signingSecret: secret });
    expect(both.open).toHaveLength(2);
    expect(openSecret(both.open, "u", box)).toBe("S");
    expect(openSecret(derivedOnly.open, "u", sealSecret(both.seal!, "u", "T"))).toBeUndefined();
    expect(mfaKeysFrom({})).toEqual({ seal: undefined, open: [] });
  });
});
