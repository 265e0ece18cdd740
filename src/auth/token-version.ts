/** Access-token revocation without a token table: each user's token version, and the rule that compares it. */

/**
 * Whether an access token survives the user's last "revoke every access token" (logout
 * everywhere, password change).
 *
 * `users.token_version` holds the epoch milliseconds at which that last happened (0: never), and
 * only ever grows. Our tokens carry the version they were issued under as the private claim `ver`,
 * read in the same query that loads the user for issuing, so the comparison is exact: a token issued
 * a microsecond after the move carries the new version and passes, one issued before carries an
 * older one and fails, whatever second they share. (Comparing `iat`, in whole seconds, with a
 * cut-off cannot tell those two apart.) A token minted elsewhere with the shared key has no `ver`:
 * it passes only when issued in a later second than the move, so one from the same second is
 * refused: the safe side of the ambiguity.
 */
export function isTokenCurrent(claims: { readonly ver?: number; readonly iat: number }, userVersion: number): boolean {
  if (claims.ver !== undefined) return claims.ver >= userVersion;
  return claims.iat * 1000 > userVersion;
}
