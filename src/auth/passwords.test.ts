import { HOSTILE_HASHES, LEGACY_VECTORS, type LegacyVector } from "../../test/legacy-vectors";
import { PasswordService } from "./passwords";

/** The fixture's `wrong` is the NFD form of the password: only bare PHC argon2 accepts it (see below). */
function acceptsAsNfkcEquivalent(vector: LegacyVector): boolean {
  return vector.hash.startsWith("$argon2") && vector.wrong.normalize("NFKC") === vector.password.normalize("NFKC");
}

// Verification runs in the real worker pool (dist/auth/hash-worker.js: `npm run build` first).
describe("PasswordService over the worker pool", () => {
  const policy = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
  let passwords: PasswordService;
  beforeAll(async () => {
    passwords = await PasswordService.create(policy, 2);
  });
  afterAll(async () => passwords?.close());

  it.each(LEGACY_VECTORS.map((v) => [v.id, v] as const))("%s verifies and asks for an argon2id re-hash", async (_id, vector) => {
    await expect(passwords.verify(vector.password, vector.hash)).resolves.toEqual({ ok: true, needsRehash: true });
    if (acceptsAsNfkcEquivalent(vector)) {
      // A bare PHC argon2 string is also our own format, whose hashes are of the NFKC form; it
      // cannot say which system wrote it, so the NFKC form of what is typed is tried as well.
      await expect(passwords.verify(vector.wrong, vector.hash)).resolves.toEqual({ ok: true, needsRehash: true });
    } else {
      await expect(passwords.verify(vector.wrong, vector.hash)).resolves.toEqual({ ok: false, needsRehash: false });
    }
    for (const also of vector.also_verifies ?? []) expect((await passwords.verify(also, vector.hash)).ok).toBe(true);
    for (const also of vector.also_rejects ?? []) expect((await passwords.verify(also, vector.hash)).ok).toBe(false);
  });

  it.each(HOSTILE_HASHES.map((h) => [h.why, h] as const))("fails like a wrong password, never computed: %s", async (_why, hostile) => {
    // A bcrypt cost of 31 or 4 GiB of argon2 memory would not finish within the test timeout.
    const result = await passwords.verify("correct horse battery staple", hostile.hash);
    expect(result.ok).toBe(false);
    expect(result.needsRehash).toBe(false);
    if (hostile.hash !== "") expect(result.refused?.family).toEqual(PasswordService.inspect(hostile.hash).family);
  });

  it("names the family of an unsupported format, and never any part of the value", async () => {
    await expect(passwords.verify("x", "md5$salt$hash")).resolves.toEqual({
      ok: false,
      needsRehash: false,
      refused: { family: "django-md5", reason: "unknown-format" },
    });
    await expect(passwords.verify("x", "plaintext-password")).resolves.toMatchObject({ refused: { family: "unknown" } });
    expect(PasswordService.inspect("$6$rounds=5000$salt$hash")).toEqual({ ok: false, family: "sha512-crypt", reason: "unknown-format" });
  });

  it("asks for no re-hash of its own hash, and for one when the policy or the tag length differs", async () => {
    const own = await passwords.hash("correct horse battery staple");
    expect(own).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    await expect(passwords.verify("correct horse battery staple", own)).resolves.toEqual({ ok: true, needsRehash: false });

    const stronger = await PasswordService.create({ memoryCost: 2048, timeCost: 1, parallelism: 1 }, 1);
    try {
      await expect(stronger.verify("correct horse battery staple", own)).resolves.toEqual({ ok: true, needsRehash: true });
    } finally {
      await stronger.close();
    }
    // argon2-cffi's 16-byte tag at our very parameters: verified, then re-written as ours.
    const cffi = LEGACY_VECTORS.find((v) => v.hash.startsWith("$argon2id$v=19$m=1024,t=1,p=1$"))!;
    await expect(passwords.verify(cffi.password, cffi.hash)).resolves.toEqual({ ok: true, needsRehash: true });
  });
});
