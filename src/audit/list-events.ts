/** The audit log's read side: a page of events, newest first, behind opaque cursors. */
import { type Kysely } from "kysely";
import { type Database } from "../db/database";
import { InvalidCursor, PageSizeOutOfRange, UnknownEventType } from "../errors";
import { listEvents, type EventPosition } from "./audit.store";
import { type AuthEventConnection } from "./auth-event.entity";
import { isAuthEventType, type StoredAuthEvent } from "./auth-event";

export interface ListEventsDeps {
  readonly db: Kysely<Database>;
}

export interface EventPage {
  readonly first: number;
  readonly after?: string | null;
  readonly userId?: string | null;
  readonly type?: string | null;
}

const MAX_PAGE = 100;
const CURSOR = /^(\d{1,15}):([0-9a-f-]{36})$/;

/**
 * A page of events, newest first, optionally of one user or one type.
 * @throws PageSizeOutOfRange for `first` outside 1..100, InvalidCursor for an `after` this
 *   server did not hand out, UnknownEventType for a `type` the contract does not list.
 */
export async function pageOfEvents(deps: ListEventsDeps, page: EventPage): Promise<AuthEventConnection> {
  if (!Number.isInteger(page.first) || page.first < 1 || page.first > MAX_PAGE) throw new PageSizeOutOfRange();
  const after = page.after === undefined || page.after === null ? undefined : decodeCursor(page.after);
  if (page.type !== undefined && page.type !== null && !isAuthEventType(page.type)) throw new UnknownEventType();
  const filter = { userId: page.userId ?? undefined, type: page.type ?? undefined };
  // One more than asked for says whether there is a next page without a count.
  const rows = await listEvents(deps.db, filter, after, page.first + 1);
  const shown = rows.slice(0, page.first);
  const edges = shown.map((event) => ({ cursor: encodeCursor(event), node: toAuthEvent(event) }));
  return { edges, pageInfo: { hasNextPage: rows.length > page.first, endCursor: edges.at(-1)?.cursor ?? null } };
}

function toAuthEvent(event: StoredAuthEvent) {
  return { ...event, at: new Date(event.at) };
}

function encodeCursor(event: StoredAuthEvent): string {
  return Buffer.from(`${event.at}:${event.id}`, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): EventPosition {
  const match = cursor.length <= 80 ? CURSOR.exec(Buffer.from(cursor, "base64url").toString("utf8")) : null;
  if (!match) throw new InvalidCursor();
  return { at: Number(match[1]), id: match[2]! };
}
