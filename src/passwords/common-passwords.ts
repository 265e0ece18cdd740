/** The password blocklist: 100,000 common passwords shipped with the server, looked up case-insensitively. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/**
 * The list as committed: `<package>/src/passwords/common-passwords.txt`, found from src/passwords
 * (jest) and from dist/passwords (the build) alike, so tsc need not copy it. It is made by
 * scripts/build-password-blocklist.mjs: one entry a line, normalised, sorted by UTF-8 bytes.
 */
export const COMMON_PASSWORDS_FILE = resolve(__dirname, "..", "..", "src", "passwords", "common-passwords.txt");

/** A loaded list: the file's bytes and where each entry starts, searched in place. */
export interface CommonPasswordList {
  readonly size: number;
  /** Whether the password, normalised as the list was, is an entry. */
  has(password: string): boolean;
}

/**
 * The comparison key, the same function as the build script's: NFKC, so that full-width and other
 * compatibility forms of a listed password (`ｐａｓｓｗｏｒｄ１`, as an IME in full-width mode types
 * it) are refused too, then lower-case without locale rules, so `Password1` and `PASSWORD1` are.
 */
export function normaliseCommonPassword(password: string): string {
  return password.normalize("NFKC").toLowerCase();
}

/**
 * Reads a list file into one Buffer and an index of line starts (about 1.3 MB for 100,000 entries,
 * against some 6 MB of heap for a Set of the same strings); a look-up is a binary search comparing
 * bytes in place, about 17 comparisons and one small allocation.
 * @throws the file system's error when the file cannot be read.
 */
export function loadCommonPasswordList(file: string = COMMON_PASSWORDS_FILE): CommonPasswordList {
  const bytes = readFileSync(file);
  let size = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) size++;
  // starts[i] is where entry i begins; starts[size] is one past the last newline, so entry i ends
  // at starts[i + 1] - 1 (its newline excluded).
  const starts = new Uint32Array(size + 1);
  let entry = 1;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) starts[entry++] = i + 1;

  return {
    size,
    has(password: string): boolean {
      const key = Buffer.from(normaliseCommonPassword(password), "utf8");
      let low = 0;
      let high = size - 1;
      while (low <= high) {
        const middle = (low + high) >>> 1;
        const order = bytes.compare(key, 0, key.length, starts[middle]!, starts[middle + 1]! - 1);
        if (order === 0) return true;
        // order < 0: the entry sorts before the key.
        if (order < 0) low = middle + 1;
        else high = middle - 1;
      }
      return false;
    },
  };
}

let shipped: CommonPasswordList | undefined;

/**
 * Whether a password is on the shipped blocklist, compared case-insensitively (see
 * normaliseCommonPassword). The list is read once, at the first call, and kept: it never changes
 * while the process runs. Well under a millisecond a call (README, "Common passwords").
 * @throws the file system's error when the list is missing from the installation.
 */
export function isCommonPassword(password: string): boolean {
  shipped ??= loadCommonPasswordList();
  return shipped.has(password);
}
