/** Recovery codes: 10 single-use codes `xxxxx-xxxxx`, stored as SHA-256 digests of their normalised form. */
import { createHash, randomInt } from "node:crypto";

export const RECOVERY_CODE_COUNT = 10;
/** Crockford's base32 alphabet in lower case (no i, l, o, u): 10 characters carry 50 random bits. */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const HALF = 5;
const NORMALISED_SHAPE = new RegExp(`^[${ALPHABET}]{${HALF * 2}}$`);

/** Ten fresh codes, as shown to the user once. */
export function generateRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const chars = Array.from({ length: HALF * 2 }, () => ALPHABET[randomInt(ALPHABET.length)]!).join("");
    return `${chars.slice(0, HALF)}-${chars.slice(HALF)}`;
  });
}

/**
 * The form a code is compared in: lower case, without dashes or white space, so `ABCDE-12345`,
 * `abcde12345` and `abcde 12345` are one code.
 * @returns undefined for anything that cannot be a recovery code.
 */
export function normaliseRecoveryCode(code: string): string | undefined {
  const normalised = code.toLowerCase().replace(/[\s-]/g, "");
  return NORMALISED_SHAPE.test(normalised) ? normalised : undefined;
}

/**
 * The digest a code is stored and looked up by. SHA-256 without a key: with 50 random bits a code
 * is out of reach of the online guesses the failed-login limit allows, and recovery codes must
 * keep working when the TOTP encryption key is lost (they are the way back in).
 */
export function digestRecoveryCode(normalised: string): string {
  return createHash("sha256").update(normalised, "utf8").digest("hex");
}
