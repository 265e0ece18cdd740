/** Username rules: how a username is validated at creation and matched at login. */
import { InvalidInput } from "../errors";

const MAX_LENGTH = 150;
/** Letters and digits of any script, and . _ @ + - (Django's rule, which imports bring with them). */
const ALLOWED = /^[\p{L}\p{N}._@+-]+$/u;

/**
 * The key usernames are compared on: NFKC (so fullwidth ｊｏｈｎｄｏｅ is johndoe), surrounding white
 * space dropped, then lower-cased without locale rules (so `İ` becomes `i̇`, and `ı` stays `ı`).
 */
export function usernameKey(username: string): string {
  return username.normalize("NFKC").trim().toLowerCase();
}

/**
 * Validates a username for a new account.
 * @returns the form to store (NFKC, trimmed; case kept for display).
 * @throws InvalidInput saying which rule failed.
 */
export function checkNewUsername(username: string): string {
  const stored = username.normalize("NFKC").trim();
  if (stored.length === 0) throw new InvalidInput("Username must not be empty");
  if ([...stored].length > MAX_LENGTH) throw new InvalidInput(`Username must be at most ${MAX_LENGTH} characters`);
  if (!ALLOWED.test(stored)) {
    throw new InvalidInput("Username may contain only letters, digits and . _ @ + -");
  }
  return stored;
}
