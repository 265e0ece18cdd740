/** Names the family of a stored value no format verifies, for a warning that must not carry the value. */

// Only fixed labels for well-known prefixes: anything else is "unknown", because a stored value of
// unknown shape may be a plaintext password, and no part of it may reach a log line.
const KNOWN_UNSUPPORTED: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\$1\$/, "md5-crypt"],
  [/^\$5\$/, "sha256-crypt"],
  [/^\$6\$/, "sha512-crypt"],
  [/^\$[PH]\$/, "phpass"],
  [/^\$y\$/, "yescrypt"],
  [/^\$(7|scrypt)\$/, "scrypt"],
  [/^\$sha1\$/, "sha1-crypt"],
  [/^(md5|unsalted_md5)\$/, "django-md5"],
  [/^(sha1|unsalted_sha1)\$/, "django-sha1"],
  [/^crypt\$/, "django-crypt"],
  [/^scrypt\$/, "django-scrypt"],
  [/^[0-9a-f]{32}$/, "unsalted-md5"],
  [/^\*[0-9A-F]{40}$/i, "mysql41"],
];

/** A fixed label for the family of a value that no registered format matches ("unknown" if none fits). */
export function unsupportedFamily(stored: string): string {
  return KNOWN_UNSUPPORTED.find(([pattern]) => pattern.test(stored))?.[1] ?? "unknown";
}
