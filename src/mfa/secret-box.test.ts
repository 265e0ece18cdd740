import { randomBytes } from "node:crypto";
import { mfaKeyFrom, openSecret, sealSecret } from "./secret-box";

describe("secret box", () => {
  const key = mfaKeyFrom({ encryptionKey: randomBytes(32) })!;

  it("opens what it sealed for the same user only, under the same key only", () => {
    const box = sealSecret(key, "user-1", "JBSWY3DPEHPK3PXP");
    expect(box).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(box).not.toContain("JBSWY3DPEHPK3PXP");
    expect(openSecret(key, "user-1", box)).toBe("JBSWY3DPEHPK3PXP");
    expect(openSecret(key, "user-2", box)).toBeUndefined();
    expect(openSecret(mfaKeyFrom({ encryptionKey: randomBytes(32) })!, "user-1", box)).toBeUndefined();
    const altered = box.slice(0, -2) + (box.endsWith("A") ? "BB" : "AA");
    expect(openSecret(key, "user-1", altered)).toBeUndefined();
    expect(openSecret(key, "user-1", "garbage")).toBeUndefined();
  });

  it("derives a stable key from the signing secret, and none without either", () => {
    const secret = Buffer.from("test-secret-key-that-is-at-least-32-bytes-long");
    const box = sealSecret(mfaKeyFrom({ signingSecret: secret })!, "u", "S");
    expect(openSecret(mfaKeyFrom({ signingSecret: Buffer.from(secret) })!, "u", box)).toBe("S");
    expect(mfaKeyFrom({})).toBeUndefined();
  });
});
