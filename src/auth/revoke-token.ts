/** Token revocation (RFC 7009): a refresh token or an access token ends the session it belongs to. */
import { type EventClient } from "../audit/audit";
import { InvalidToken } from "../errors";
import { endSession } from "../sessions/manage-sessions";
import { checkAccessToken } from "./live-access-token";
import { logout, type SessionDeps } from "./refresh-tokens";

/**
 * Ends the session of `token`, with every token of it: a refresh token through `logout` (the same
 * use case as the mutation, reuse detection included), an access token that is live through
 * endSession. Both record `logout`: revocation is how an OAuth client logs out (RFC 7009 section 1).
 * The two kinds cannot be mistaken for each other (a JWT has dots, a refresh token none), so no
 * hint is needed. Anything else (unknown, expired, already ended, malformed) ends nothing and raises
 * nothing (RFC 7009 section 2.2). An access token without `sid` (minted elsewhere with the shared key)
 * belongs to no session: nothing is ended, and it lives until it expires, as before sessions.
 * @returns whether a session was ended now.
 * @throws ServiceUnavailable when the database cannot answer.
 */
export async function revokeToken(deps: SessionDeps, token: string, client: EventClient = {}): Promise<boolean> {
  if (await logout(deps, token, false, client)) return true;
  let viewer;
  try {
    ({ viewer } = await checkAccessToken(deps, token));
  } catch (error) {
    if (error instanceof InvalidToken) return false;
    throw error;
  }
  if (viewer.sessionId === undefined) return false;
  return endSession(deps, viewer.user.id, viewer.sessionId, "logout", client);
}
