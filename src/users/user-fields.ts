/**
 * The user fields: how a username, an e-mail address, a full name and scopes are validated,
 * normalised and compared, for every door that creates an account.
 */
import { z } from "zod";
import { InvalidEmail, InvalidFullName, InvalidUsername } from "../errors";
import { readScopeList } from "./scopes";
import { isHighlyRestrictive, scriptNames } from "./scripts";
import { skeletonKey } from "./skeleton";

export { skeletonKey } from "./skeleton";

/** InvalidUsername's reason for a look-alike; which account it looks like is not said, to anyone. */
export const LOOKS_LIKE_EXISTING = "looks like an existing username";

/** The scopes a new account gets when its door names none: every scope this server checks. */
export const DEFAULT_SCOPES: readonly string[] = ["me", "items"];

const MAX_USERNAME_CHARS = 150;
const MAX_EMAIL_CHARS = 254;
const MAX_FULL_NAME_CHARS = 255;
/** Letters and digits of any script, and . _ @ + - (Django's rule, which imports bring with them). */
const USERNAME_CHARS = /^[\p{L}\p{N}._@+-]+$/u;
/** Letters that draw nothing (Hangul fillers U+3164, U+FFA0 are letters): a name made to look shorter. */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;
/**
 * Control (Cc), format (Cf: bidi overrides such as U+202E, zero-width U+200B/U+200D, U+FEFF) and
 * line or paragraph separators: none belongs in a name or an address, and format characters reorder
 * or hide what an operator reads (Trojan Source). PostgreSQL text cannot hold NUL at all.
 */
const HIDDEN_OR_CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
/** Something@something, no white space or quote (zod's Unicode pattern), so international addresses pass. */
const emailSchema = z.email({ pattern: z.regexes.unicodeEmail }).max(MAX_EMAIL_CHARS);

/**
 * The key usernames are compared on for identity (logins, uniqueness): NFKC (so fullwidth
 * ｊｏｈｎｄｏｅ is johndoe), surrounding white space dropped, then lower-cased without locale rules
 * (so `İ` becomes `i̇`, and `ı` stays `ı`). Look-alikes are skeletonKey's job.
 */
export function usernameKey(username: string): string {
  return username.normalize("NFKC").trim().toLowerCase();
}

/**
 * Validates a username for a new account (CONTRACT section 15): 1 to 150 letters, digits and
 * `. _ @ + -`, nothing invisible, and scripts mixed no more than UTS #39 "highly restrictive"
 * allows (Latin with digits and punctuation; not `јohndoe` with a Cyrillic ј). Whether it looks
 * like an existing account is for the store to decide (skeletonKey).
 * @returns the form to store (NFKC, trimmed; case kept for display).
 * @throws InvalidUsername, whose `reason` says which rule failed.
 */
export function checkNewUsername(username: string): string {
  const stored = username.normalize("NFKC").trim();
  if (stored.length === 0) throw new InvalidUsername("must not be empty");
  if ([...stored].length > MAX_USERNAME_CHARS) throw new InvalidUsername(`must be at most ${MAX_USERNAME_CHARS} characters`);
  if (!USERNAME_CHARS.test(stored) || INVISIBLE.test(stored)) throw new InvalidUsername("may contain only letters, digits and . _ @ + -");
  if (!isHighlyRestrictive(stored)) throw new InvalidUsername(`mixes scripts (${scriptNames(stored).join(", ")})`);
  return stored;
}

/**
 * Validates an e-mail address: trimmed, at most 254 characters, one `@` with text on both sides,
 * no white space, control or format character.
 * @returns the trimmed address.
 * @throws InvalidEmail
 */
export function checkEmail(email: string): string {
  const trimmed = email.trim();
  if (HIDDEN_OR_CONTROL.test(trimmed)) throw new InvalidEmail("contains control or format characters");
  if (!emailSchema.safeParse(trimmed).success) throw new InvalidEmail("does not look like an address");
  return trimmed;
}

/**
 * Validates a full name: NFC, trimmed, 1 to 255 characters, no control or format character.
 * @returns the normalised name.
 * @throws InvalidFullName
 */
export function checkFullName(name: string): string {
  const normalised = name.normalize("NFC").trim();
  if (normalised.length === 0 || [...normalised].length > MAX_FULL_NAME_CHARS)
    throw new InvalidFullName(`must be 1 to ${MAX_FULL_NAME_CHARS} characters`);
  if (HIDDEN_OR_CONTROL.test(normalised)) throw new InvalidFullName("contains control or format characters");
  return normalised;
}

/**
 * Validates the scopes an account may be granted, as a list or as an operator types them
 * (space-separated): each a scope-token of RFC 6749 section 3.3 (users/scopes.ts), without repeats.
 * @returns the tokens in order.
 * @throws InvalidScope carrying the first token that breaks the grammar.
 */
export function checkScopes(scopes: string | readonly string[]): string[] {
  return readScopeList(typeof scopes === "string" ? scopes : scopes.join(" "));
}

/** The fields of a new account, each optional one absent (undefined), cleared (null) or given. */
export interface UserFields {
  readonly username: string;
  readonly email?: string | null;
  readonly fullName?: string | null;
  readonly scopes?: string | readonly string[];
}

/** The checked fields, with the two keys the store compares usernames on. */
export interface CheckedUserFields {
  readonly username: string;
  readonly usernameKey: string;
  readonly skeletonKey: string;
  readonly email?: string | null;
  readonly fullName?: string | null;
  readonly scopes?: string[];
}

/**
 * Checks every field of a new account at once (the rules above); absent and null stay as they are.
 * @throws InvalidUsername, InvalidEmail, InvalidFullName or InvalidScope.
 */
export function checkUserFields(fields: UserFields): CheckedUserFields {
  const username = checkNewUsername(fields.username);
  return {
    username,
    usernameKey: usernameKey(username),
    skeletonKey: skeletonKey(username),
    email: fields.email == null ? fields.email : checkEmail(fields.email),
    fullName: fields.fullName == null ? fields.fullName : checkFullName(fields.fullName),
    scopes: fields.scopes === undefined ? undefined : checkScopes(fields.scopes),
  };
}
