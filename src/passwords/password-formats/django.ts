/** Django hashes: pbkdf2_sha256$, pbkdf2_sha1$, argon2$, bcrypt_sha256$, bcrypt$, and `!` (unusable). */
import { createHash } from "node:crypto";
import { parseArgon2, verifyArgon2 } from "./argon2";
import { inspectBcrypt, verifyBcrypt } from "./bcrypt";
import { HashRejected, parseCount, type PasswordFormat } from "./format";
import { MAX_PBKDF2_ITERATIONS, verifyPbkdf2, type Pbkdf2Params } from "./pbkdf2";

/** Django algorithm name → node:crypto digest and its output length in bytes. */
const PBKDF2_DIGESTS: Record<string, { digest: string; length: number }> = {
  pbkdf2_sha1: { digest: "sha1", length: 20 },
  pbkdf2_sha256: { digest: "sha256", length: 32 },
};
const MAX_SALT_CHARS = 1024;

/**
 * Parses `pbkdf2_<digest>$<iterations>$<salt>$<padded standard base64>`. Django hashes the salt as
 * the text it is (UTF-8), not as decoded bytes.
 * @throws HashRejected when malformed, of an unknown digest, or over the iteration bound.
 */
export function parseDjangoPbkdf2(stored: string): Pbkdf2Params {
  const parts = stored.split("$");
  if (parts.length !== 4) throw new HashRejected("django-pbkdf2", "malformed");
  const [algorithm, iterationsText, saltText, hashText] = parts as [string, string, string, string];
  const spec = PBKDF2_DIGESTS[algorithm];
  const iterations = parseCount(iterationsText);
  if (!spec || iterations === undefined || iterations < 1) throw new HashRejected("django-pbkdf2", "malformed");
  if (iterations > MAX_PBKDF2_ITERATIONS) throw new HashRejected("django-pbkdf2", "out-of-bounds");
  // Django compares the whole base64 text, so only the canonical encoding of the right length matches.
  const checksum = Buffer.from(hashText, "base64");
  if (
    saltText.length === 0 ||
    saltText.length > MAX_SALT_CHARS ||
    checksum.length !== spec.length ||
    checksum.toString("base64") !== hashText
  ) {
    throw new HashRejected("django-pbkdf2", "malformed");
  }
  return { digest: spec.digest, iterations, salt: Buffer.from(saltText, "utf8"), checksum };
}

/** Django PBKDF2PasswordHasher (the default) and PBKDF2SHA1PasswordHasher. */
export const djangoPbkdf2Format: PasswordFormat = {
  family: "django-pbkdf2",
  normalizesPassword: false,
  computesOnCaller: false,
  matches: (stored) => /^pbkdf2_[a-z0-9]+\$/.test(stored),
  inspect: (stored) => void parseDjangoPbkdf2(stored),
  verify: (password, stored) => verifyPbkdf2(password, parseDjangoPbkdf2(stored)),
};

/** Django Argon2PasswordHasher: the word `argon2` followed by a standard PHC string. */
export const djangoArgon2Format: PasswordFormat = {
  family: "django-argon2",
  normalizesPassword: false,
  computesOnCaller: false,
  matches: (stored) => stored.startsWith("argon2$"),
  inspect: (stored) => void parseArgon2(stored.slice("argon2".length), "django-argon2"),
  verify: (password, stored) => verifyArgon2(password, parseArgon2(stored.slice("argon2".length), "django-argon2")),
};

/** Django BCryptSHA256PasswordHasher: bcrypt of the hex SHA-256 of the password (64 ASCII bytes). */
export const djangoBcryptSha256Format: PasswordFormat = {
  family: "django-bcrypt-sha256",
  normalizesPassword: false,
  computesOnCaller: true,
  matches: (stored) => stored.startsWith("bcrypt_sha256$"),
  inspect: (stored) => inspectBcrypt(stored.slice("bcrypt_sha256$".length), "django-bcrypt-sha256"),
  verify: async (password, stored) =>
    verifyBcrypt(createHash("sha256").update(password, "utf8").digest("hex"), stored.slice("bcrypt_sha256$".length)),
};

/** Django BCryptPasswordHasher: plain bcrypt, so its 72-byte cut applies as it did in Django. */
export const djangoBcryptFormat: PasswordFormat = {
  family: "django-bcrypt",
  normalizesPassword: false,
  computesOnCaller: true,
  matches: (stored) => stored.startsWith("bcrypt$"),
  inspect: (stored) => inspectBcrypt(stored.slice("bcrypt$".length), "django-bcrypt"),
  verify: async (password, stored) => verifyBcrypt(password, stored.slice("bcrypt$".length)),
};

/**
 * Django's unusable password (`set_unusable_password()`, `!` and random text): it never verifies,
 * by design, so it is refused like any value that must not be computed.
 */
export const djangoUnusableFormat: PasswordFormat = {
  family: "django-unusable",
  normalizesPassword: false,
  computesOnCaller: false,
  matches: (stored) => stored.startsWith("!"),
  inspect: () => {
    throw new HashRejected("django-unusable", "unusable");
  },
  verify: async () => false,
};
