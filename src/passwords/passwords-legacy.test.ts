/** PasswordService on every fixture format (passlib and Django included): verify, re-hash, refuse hostile values. */
import { HOSTILE_HASHES, LEGACY_VECTORS, type LegacyVector } from "../../test/legacy-vectors";
import { PasswordService } from "./passwords";

/**
 * The unicode vectors' `wrong` is the NFD form of the password. A bare `$argon2id$` string may be
 * one of ours (of the NFKC form), so that form verifies there: passwords.test.ts keeps the known
 * gap as a failing test. Every other format hashes raw bytes and must refuse it.
 */
const nfdAcceptedAsOurs = (vector: LegacyVector) =>
  vector.hash.startsWith("$argon2id$") && vector.wrong.normalize("NFKC") === vector.password.normalize("NFKC");

// Verification runs in the real worker pool (dist/passwords/hash-worker.js: `npm run build` first).
describe("PasswordService on hashes from other systems", () => {
  const policy = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
  let passwords: PasswordService;
  beforeAll(async () => {
    passwords = await PasswordService.create(policy, 2);
  });
  afterAll(async () => passwords?.close());

  it.each(LEGACY_VECTORS.map((v) => [v.id, v] as const))(
    "%s verifies, and asks for a re-hash unless at the current policy",
    async (_id, vector) => {
      const current = vector.hash.startsWith("$argon2id$v=19$m=1024,t=1,p=1$");
      await expect(passwords.verify(vector.password, vector.hash)).resolves.toEqual({ ok: true, needsRehash: !current });
      if (!nfdAcceptedAsOurs(vector))
        await expect(passwords.verify(vector.wrong, vector.hash)).resolves.toEqual({ ok: false, needsRehash: false });
      for (const also of vector.also_verifies ?? []) expect((await passwords.verify(also, vector.hash)).ok).toBe(true);
      for (const also of vector.also_rejects ?? []) expect((await passwords.verify(also, vector.hash)).ok).toBe(false);
    },
  );

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
    expect(PasswordService.inspect("!unusable")).toEqual({ ok: false, family: "django-unusable", reason: "unusable" });
  });
});
