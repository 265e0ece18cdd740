/** The one decision "is this access token live": its signature and claims, its user, token version and session. */
import { InvalidToken } from "../errors";
import { type UserStore } from "../users/user.store";
import { type Viewer } from "../users/viewer";
import { isTokenCurrent } from "./token-version";
import { type AccessClaims, type TokenService } from "./tokens";

export interface AccessTokenDeps {
  readonly tokens: TokenService;
  readonly users: UserStore;
}

/** An access token that passed every check, the caller it names, and its verified claims. */
export interface LiveAccessToken {
  readonly viewer: Viewer;
  readonly claims: AccessClaims;
}

/**
 * Judges an access token as every door does (the GraphQL context, POST /introspect, POST /revoke):
 * signature, header and claims (TokenService.verifyAccessToken), then in one query the user, its
 * token version (logout everywhere, password change) and the token's session (logout,
 * revokeSession, POST /revoke). A disabled user's token is returned, marked by `viewer.user.disabled`:
 * whether that is enough is the caller's to decide (`status` accepts it, `me` and introspection do not).
 * @throws InvalidToken, with the reason in `cause`; ServiceUnavailable when the database cannot answer.
 */
export async function checkAccessToken(deps: AccessTokenDeps, token: string): Promise<LiveAccessToken> {
  const claims = await deps.tokens.verifyAccessToken(token);
  // One query: the user, its token version (which revokes tokens issued before the last logout
  // everywhere or password change) and the token's session, joined on primary keys.
  const subject = await deps.users.findTokenSubject(claims.sub, claims.sid);
  if (!subject) throw new InvalidToken("unknown subject");
  if (!isTokenCurrent(claims, subject.tokenVersion)) throw new InvalidToken("revoked");
  const { user } = subject;
  // A disabled user's token is judged as such (Inactive user; `status` still answers) before its
  // session, which disabling ended: the disabled check comes first (CONTRACT section 9). A token
  // without `sid` (minted elsewhere, or before sessions) is judged as before.
  if (!user.disabled && subject.sessionLive === false) throw new InvalidToken("session ended");
  const viewer: Viewer = {
    user,
    // A scope the account has lost since the token was issued is not honoured.
    scopes: claims.scopes.filter((scope) => user.scopes.includes(scope)),
    tokenId: claims.jti,
    issuedAt: claims.iat,
    ...(claims.sid !== undefined ? { sessionId: claims.sid } : {}),
  };
  return { viewer, claims };
}
