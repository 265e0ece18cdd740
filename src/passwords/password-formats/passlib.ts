/** passlib hashes (FastAPI and Flask apps): $pbkdf2-sha256$, $pbkdf2-sha512$, $pbkdf2$ and $bcrypt-sha256$. */
import { createHash, createHmac } from "node:crypto";
import { inspectBcrypt, verifyBcrypt } from "./bcrypt";
import { HashRejected, parseCount, type PasswordFormat } from "./format";
import { MAX_PBKDF2_ITERATIONS, verifyPbkdf2, type Pbkdf2Params } from "./pbkdf2";

/** passlib's own ceiling for a pbkdf2 salt (`max_salt_size`). */
const MAX_SALT_BYTES = 1024;

/** passlib ident → node:crypto digest and its output length in bytes. */
const PBKDF2_DIGESTS: Record<string, { digest: string; length: number }> = {
  $pbkdf2$: { digest: "sha1", length: 20 },
  "$pbkdf2-sha256$": { digest: "sha256", length: 32 },
  "$pbkdf2-sha512$": { digest: "sha512", length: 64 },
};

/**
 * Decodes passlib's "adapted base64" (ab64): standard base64 with `.` for `+`, no padding.
 * @returns undefined for text that is not ab64 (a length of 1 mod 4 cannot come from any bytes).
 */
export function decodeAb64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9./]*$/.test(text) || text.length % 4 === 1) return undefined;
  return Buffer.from(text.replace(/\./g, "+"), "base64");
}

/**
 * Parses `$pbkdf2-<digest>$<rounds>$<ab64 salt>$<ab64 checksum>`.
 * @throws HashRejected when malformed, of an unknown digest, or over the iteration bound.
 */
export function parsePasslibPbkdf2(stored: string): Pbkdf2Params {
  const parts = stored.split("$");
  if (parts.length !== 5 || parts[0] !== "") throw new HashRejected("passlib-pbkdf2", "malformed");
  const [, ident, roundsText, saltText, checksumText] = parts as [string, string, string, string, string];
  const spec = PBKDF2_DIGESTS[`$${ident}$`];
  // parseCount refuses zero-padded rounds, as passlib does.
  const iterations = parseCount(roundsText);
  if (!spec || iterations === undefined || iterations < 1) throw new HashRejected("passlib-pbkdf2", "malformed");
  if (iterations > MAX_PBKDF2_ITERATIONS) throw new HashRejected("passlib-pbkdf2", "out-of-bounds");
  const salt = decodeAb64(saltText);
  const checksum = decodeAb64(checksumText);
  if (!salt || salt.length > MAX_SALT_BYTES || !checksum || checksum.length !== spec.length) {
    throw new HashRejected("passlib-pbkdf2", "malformed");
  }
  return { digest: spec.digest, iterations, salt, checksum };
}

/** passlib $pbkdf2-sha256$ (its and FastAPI-era apps' usual default), $pbkdf2-sha512$ and $pbkdf2$ (SHA-1). */
export const passlibPbkdf2Format: PasswordFormat = {
  family: "passlib-pbkdf2",
  normalizesPassword: false,
  computesOnCaller: false,
  // Any $pbkdf2-…$ belongs here, so an unsupported digest is named in the warning, then refused.
  matches: (stored) => /^\$pbkdf2(-[a-z0-9]+)?\$/.test(stored),
  inspect: (stored) => void parsePasslibPbkdf2(stored),
  verify: (password, stored) => verifyPbkdf2(password, parsePasslibPbkdf2(stored)),
};

// passlib 1.7.4's own patterns: v1 `$bcrypt-sha256$2b,12$<salt>$<digest>`, v2
// `$bcrypt-sha256$v=2,t=2b,r=12$<salt>$<digest>`. Rounds are never zero-padded in either.
const BCRYPT_SHA256_V1 = /^\$bcrypt-sha256\$(2[ab]),(\d{1,2})\$([./A-Za-z0-9]{22})\$([./A-Za-z0-9]{31})$/;
const BCRYPT_SHA256_V2 = /^\$bcrypt-sha256\$v=2,t=(2b),r=(\d{1,2})\$([./A-Za-z0-9]{22})\$([./A-Za-z0-9]{31})$/;

interface BcryptSha256Params {
  readonly version: 1 | 2;
  readonly salt: string;
  /** The inner bcrypt string, `$2b$NN$<salt><digest>`. */
  readonly bcrypt: string;
}

/**
 * Parses a passlib bcrypt_sha256 string of either version.
 * @throws HashRejected when malformed (an unknown version included) or the cost is over 16.
 */
export function parsePasslibBcryptSha256(stored: string): BcryptSha256Params {
  const v2 = BCRYPT_SHA256_V2.exec(stored);
  const match = v2 ?? BCRYPT_SHA256_V1.exec(stored);
  if (!match) throw new HashRejected("passlib-bcrypt-sha256", "malformed");
  const [, ident, roundsText, salt, digest] = match as unknown as [string, string, string, string, string];
  const rounds = parseCount(roundsText, 2);
  if (rounds === undefined) throw new HashRejected("passlib-bcrypt-sha256", "malformed");
  const bcrypt = `$${ident}$${String(rounds).padStart(2, "0")}$${salt}${digest}`;
  inspectBcrypt(bcrypt, "passlib-bcrypt-sha256");
  return { version: v2 ? 2 : 1, salt, bcrypt };
}

/**
 * The key passlib hands to bcrypt: base64 of SHA-256 of the password (v1), or of HMAC-SHA256 keyed
 * by the salt string (v2). Either is 44 ASCII bytes, so bcrypt's 72-byte cut never applies.
 */
export function passlibBcryptSha256Key(password: string, params: Pick<BcryptSha256Params, "version" | "salt">): string {
  const digest =
    params.version === 2
      ? createHmac("sha256", Buffer.from(params.salt, "ascii")).update(password, "utf8").digest()
      : createHash("sha256").update(password, "utf8").digest();
  return digest.toString("base64");
}

/** passlib $bcrypt-sha256$, versions 1 (passlib < 1.7.3) and 2. */
export const passlibBcryptSha256Format: PasswordFormat = {
  family: "passlib-bcrypt-sha256",
  normalizesPassword: false,
  computesOnCaller: true,
  matches: (stored) => stored.startsWith("$bcrypt-sha256$"),
  inspect: (stored) => void parsePasslibBcryptSha256(stored),
  verify: async (password, stored) => {
    const params = parsePasslibBcryptSha256(stored);
    return verifyBcrypt(passlibBcryptSha256Key(password, params), params.bcrypt);
  },
};
