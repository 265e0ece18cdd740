/** The session use cases a user runs on their own sessions: list them, end one, end all others. */
import { type AuthEventType, type EventClient, type EventRecorder } from "../audit/audit";
import { type Clock } from "../clock";
import { type Session } from "./session.entity";
import { toSession, type SessionStore } from "./session.store";

export interface ManageSessionsDeps {
  readonly sessions: SessionStore;
  readonly clock: Clock;
  readonly audit: EventRecorder;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The user's live sessions (not ended, not expired), newest first; `currentId` marks the caller's. */
export async function listSessions(deps: ManageSessionsDeps, userId: string, currentId: string | undefined): Promise<Session[]> {
  const rows = await deps.sessions.listLive(userId, deps.clock.now());
  return rows.map((row) => toSession(row, currentId));
}

/**
 * Ends one of the user's own sessions: its refresh tokens at once, its access tokens at their next
 * request. The same `false` for an unknown, foreign, ended or malformed id, so the answer reveals
 * nothing about other users' sessions.
 * @returns whether this call ended a session.
 */
export async function revokeSession(
  deps: ManageSessionsDeps,
  userId: string,
  sessionId: string,
  client: EventClient = {},
): Promise<boolean> {
  return endSession(deps, userId, sessionId, "session.revoked", client);
}

/**
 * Ends a live session of `userId` and records `type` with it, in one transaction: revokeSession
 * (`session.revoked`), and POST /revoke given an access token (`logout`, as the logout it is).
 * @returns whether this call ended it; false for a malformed, unknown, foreign or ended id.
 */
export async function endSession(
  deps: ManageSessionsDeps,
  userId: string,
  sessionId: string,
  type: Extract<AuthEventType, "session.revoked" | "logout">,
  client: EventClient = {},
): Promise<boolean> {
  if (!UUID.test(sessionId)) return false;
  const id = sessionId.toLowerCase();
  return deps.sessions.transaction(async (sessions, trx) => {
    const ended = await sessions.revoke(id, deps.clock.now(), userId);
    if (ended) await deps.audit.recordEvent(trx, { type, userId, sessionId: id, ...client });
    return ended;
  });
}

/**
 * Ends every live session of the user but `currentId` (every one when the caller's token names no
 * session).
 * @returns how many were ended (one `session.revoked` event each, in the same transaction).
 */
export function revokeOtherSessions(
  deps: ManageSessionsDeps,
  userId: string,
  currentId: string | undefined,
  client: EventClient = {},
): Promise<number> {
  return deps.sessions.transaction(async (sessions, trx) => {
    const ended = await sessions.revokeOthers(userId, currentId, deps.clock.now());
    // One event per session ended, each naming it, as revokeSession records one.
    for (const sessionId of ended) await deps.audit.recordEvent(trx, { type: "session.revoked", userId, sessionId, ...client });
    return ended.length;
  });
}
