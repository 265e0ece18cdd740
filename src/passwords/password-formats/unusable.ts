/** The markers other systems store for an account that exists but has no usable password (social or SSO logins, locked accounts). */

/**
 * Whether a stored value is such a marker rather than a hash: Django's `set_unusable_password()`
 * (`!` followed by 40 random characters, or a bare `!` before Django 1.6), and passlib's
 * `unix_disabled` / shadow(5) markers (`*` on BSD, `!` or `!!` on Linux, `!` before a locked hash).
 * A `*` followed by anything else is not taken for one: MySQL's `*` and 40 hex digits is a real hash
 * we cannot verify, and must be refused as such rather than import its account without a password.
 */
export function isUnusablePasswordMarker(stored: string): boolean {
  return stored.startsWith("!") || stored === "*";
}
