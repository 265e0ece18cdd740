/** PBKDF2 shared by the passlib and Django formats: the iteration bound and the asynchronous check. */
import { pbkdf2, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const pbkdf2Async = promisify(pbkdf2);

/** CONTRACT section 7: more than 10 million PBKDF2 iterations is refused, never computed. */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;

export interface Pbkdf2Params {
  /** A node:crypto digest name: sha1, sha256 or sha512. */
  readonly digest: string;
  readonly iterations: number;
  readonly salt: Buffer;
  /** The stored derived key; its length is the length derived. */
  readonly checksum: Buffer;
}

/**
 * PBKDF2 of `secret` (its UTF-8 bytes, as passlib and Django hash it) through node:crypto's
 * asynchronous API, compared with the stored key in constant time.
 */
export async function verifyPbkdf2(secret: string, params: Pbkdf2Params): Promise<boolean> {
  const actual = await pbkdf2Async(Buffer.from(secret, "utf8"), params.salt, params.iterations, params.checksum.length, params.digest);
  return timingSafeEqual(actual, params.checksum);
}
