/** The one password policy (CONTRACT section 15): what may be chosen, and what can be verified at login. */
import { PasswordPolicyViolation } from "../errors";
import { isCommonPassword } from "./common-passwords";

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

/** Every character with the Unicode White_Space property (U+3000 and NBSP among them), and nothing else. */
const ONLY_WHITE_SPACE = /^\p{White_Space}*$/u;
/**
 * A lone surrogate: with the `u` flag a well-formed pair reads as one code point, so only an unpaired
 * half is of category Cs (String.prototype.isWellFormed, which our ES2022 lib does not declare).
 */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Checks a new password (changePassword, `users add`, `hash`) before anything is hashed: well-formed
 * Unicode (a lone surrogate, which JSON can carry as "\ud800", has no UTF-8 form and would be hashed
 * as U+FFFD, matching any other lone surrogate), no NUL, 8 to 1024 characters (code points), not
 * only white space, and not on the blocklist of common passwords (CONTRACT section 10), compared
 * case-insensitively; the list is consulted last, so a short one is told its length. The character
 * rules are those of isVerifiablePassword, so no account can be given a password its owner can never
 * log in with. Never called at login: an existing password is not judged.
 * @throws PasswordPolicyViolation saying which rule failed.
 */
export function checkNewPassword(password: string): void {
  const broken = characterRuleBroken(password);
  if (broken) throw new PasswordPolicyViolation(broken);
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw new PasswordPolicyViolation(`Password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new PasswordPolicyViolation(`Password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  if (ONLY_WHITE_SPACE.test(password)) throw new PasswordPolicyViolation("Password must not be only white space");
  if (isCommonPassword(password)) throw new PasswordPolicyViolation("Password is too common");
}

/**
 * Whether a password offered at login (or as the current password) can be checked at all; the
 * caller fails the others after the same dummy work. The same rule as checkNewPassword except the
 * lower bound: the demo users' `secret` has 6 characters, and a password imported with its legacy
 * hash may be shorter still, so a short password is verified (and simply fails when wrong).
 */
export function isVerifiablePassword(password: string): boolean {
  // Counted in characters like checkNewPassword, so that a new password of 1024 characters outside
  // the BMP (2048 UTF-16 units) can still log in; the first comparison keeps huge inputs cheap.
  const withinBound = password.length <= 2 * MAX_PASSWORD_LENGTH && [...password].length <= MAX_PASSWORD_LENGTH;
  return withinBound && characterRuleBroken(password) === undefined && !ONLY_WHITE_SPACE.test(password);
}

/** The rules on what characters a password holds, in the order they are reported. */
function characterRuleBroken(password: string): string | undefined {
  if (LONE_SURROGATE.test(password)) return "Password must be valid UTF-8";
  if (password.includes("\0")) return "Password must not contain a NUL character";
  return undefined;
}
