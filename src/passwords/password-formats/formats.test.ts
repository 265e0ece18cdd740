import { HOSTILE_HASHES, LEGACY_VECTORS } from "../../../test/legacy-vectors";
import { HashRejected } from "./format";
import { findFormat } from "./index";

/** The family each fixture format must be filed under (the label logs and import reports use). */
const FAMILY: Record<string, string> = {
  "bcrypt-2a": "bcrypt",
  "bcrypt-2b": "bcrypt",
  "bcrypt-2y": "bcrypt",
  argon2id: "argon2",
  argon2i: "argon2",
  argon2d: "argon2",
  "passlib-pbkdf2-sha256": "passlib-pbkdf2",
  "passlib-pbkdf2-sha512": "passlib-pbkdf2",
  "passlib-pbkdf2-sha1": "passlib-pbkdf2",
  "passlib-bcrypt-sha256-v1": "passlib-bcrypt-sha256",
  "passlib-bcrypt-sha256-v2": "passlib-bcrypt-sha256",
  "django-pbkdf2-sha256": "django-pbkdf2",
  "django-pbkdf2-sha1": "django-pbkdf2",
  "django-argon2id": "django-argon2",
  "django-argon2i": "django-argon2",
  "django-bcrypt-sha256": "django-bcrypt-sha256",
  "django-bcrypt": "django-bcrypt",
};

describe("stored-hash formats against vectors made by the original libraries", () => {
  it("covers every format in the fixture", () => {
    expect(new Set(LEGACY_VECTORS.map((v) => v.format))).toEqual(new Set(Object.keys(FAMILY)));
  });

  it.each(LEGACY_VECTORS.map((v) => [v.id, v] as const))("%s: right password, wrong password, and the extra cases", async (_id, vector) => {
    const format = findFormat(vector.hash);
    expect(format?.family).toBe(FAMILY[vector.format]);
    expect(() => format!.inspect(vector.hash)).not.toThrow();
    await expect(format!.verify(vector.password, vector.hash)).resolves.toBe(true);
    await expect(format!.verify(vector.wrong, vector.hash)).resolves.toBe(false);
    for (const also of vector.also_verifies ?? []) await expect(format!.verify(also, vector.hash)).resolves.toBe(true);
    for (const also of vector.also_rejects ?? []) await expect(format!.verify(also, vector.hash)).resolves.toBe(false);
  });

  it.each(HOSTILE_HASHES.map((h) => [h.why, h] as const))("refuses without computing: %s", (_why, hostile) => {
    const format = findFormat(hostile.hash);
    if (format === undefined) return; // an unknown prefix: nothing could compute it
    let refused: unknown;
    try {
      format.inspect(hostile.hash);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(HashRejected);
    if (/DoS|4 GiB|cost 31/.test(hostile.why)) expect((refused as HashRejected).reason).toBe("out-of-bounds");
  });

  it("names each bound of CONTRACT section 7 exactly at its edge", () => {
    const accepts = (stored: string) => () => findFormat(stored)!.inspect(stored);
    const salt = "c29tZXNhbHRzb21lc2FsdA";
    const tag = "aGFzaGhhc2hoYXNoaGFzaA";
    expect(accepts(`$argon2id$v=19$m=1048576,t=10,p=1$${salt}$${tag}`)).not.toThrow();
    expect(accepts(`$argon2id$v=19$m=1048577,t=1,p=1$${salt}$${tag}`)).toThrow("argon2 hash refused: out-of-bounds");
    expect(accepts(`$argon2id$v=19$m=1024,t=11,p=1$${salt}$${tag}`)).toThrow("argon2 hash refused: out-of-bounds");
    const bcryptTail = "K/VgpwnOJ.znlRwJ5pPnvu36qwZuyOC41V0Yg7NwusFjlhIO4i4/2";
    expect(accepts(`$2b$16$${bcryptTail}`)).not.toThrow();
    expect(accepts(`$2b$17$${bcryptTail}`)).toThrow("bcrypt hash refused: out-of-bounds");
    expect(accepts(`bcrypt$$2b$17$${bcryptTail}`)).toThrow("django-bcrypt hash refused: out-of-bounds");
    const djangoKey = "AXTleNnLIm76A0tOA+mjC8YxsOyf1QoM2Uiz5556VB4=";
    expect(accepts(`pbkdf2_sha256$10000000$salt$${djangoKey}`)).not.toThrow();
    expect(accepts(`pbkdf2_sha256$10000001$salt$${djangoKey}`)).toThrow("django-pbkdf2 hash refused: out-of-bounds");
    const passlibKey = "rvgIfNegamEJOSS8casmCVMznczKNKlZlhch6e9Fjb8";
    expect(accepts(`$pbkdf2-sha256$10000000$FULo3dvb.79Xam2tlZJyzg$${passlibKey}`)).not.toThrow();
    expect(accepts(`$pbkdf2-sha256$10000001$FULo3dvb.79Xam2tlZJyzg$${passlibKey}`)).toThrow("passlib-pbkdf2 hash refused: out-of-bounds");
  });
});
