/** The audit store: insert, page through and age out `auth_events`. Touches that table only. */
import { type Insertable, type Kysely, type Selectable } from "kysely";
import { type AuthEventsTable, type Database } from "../db/database";
import { type NewAuthEvent, type StoredAuthEvent } from "./auth-event";

type AuthEventRow = Selectable<AuthEventsTable>;

const CLIENT_ADDRESS_MAX = 64;
const USER_AGENT_MAX = 512;

/** A position in the newest-first order: the event's time, then its id (ties broken by id). */
export interface EventPosition {
  readonly at: number;
  readonly id: string;
}

export interface EventFilter {
  readonly userId?: string;
  readonly type?: string;
}

/** Inserts an event; pass the use case's transaction so it commits with what it records. */
export async function insertEvent(db: Kysely<Database>, id: string, at: number, event: NewAuthEvent): Promise<StoredAuthEvent> {
  const row: Insertable<AuthEventsTable> & { at: number } = {
    id,
    type: event.type,
    at,
    user_id: event.userId ?? null,
    session_id: event.sessionId ?? null,
    client_address: event.clientAddress?.slice(0, CLIENT_ADDRESS_MAX) ?? null,
    user_agent: event.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
  };
  await db.insertInto("auth_events").values(row).execute();
  return toStoredEvent({
    ...row,
    user_id: row.user_id ?? null,
    session_id: row.session_id ?? null,
    client_address: row.client_address ?? null,
    user_agent: row.user_agent ?? null,
  });
}

/**
 * Events matching `filter`, newest first, strictly after `after` in that order.
 * @returns at most `limit` events.
 */
export async function listEvents(
  db: Kysely<Database>,
  filter: EventFilter,
  after: EventPosition | undefined,
  limit: number,
): Promise<StoredAuthEvent[]> {
  let query = db.selectFrom("auth_events").selectAll();
  if (filter.userId !== undefined) query = query.where("user_id", "=", filter.userId);
  if (filter.type !== undefined) query = query.where("type", "=", filter.type);
  if (after) query = query.where((eb) => eb.or([eb("at", "<", after.at), eb.and([eb("at", "=", after.at), eb("id", "<", after.id)])]));
  const rows = await query.orderBy("at", "desc").orderBy("id", "desc").limit(limit).execute();
  return rows.map(toStoredEvent);
}

/**
 * Deletes at most `batch` events older than `before` (epoch milliseconds), oldest first, so that a
 * long backlog is worked off in short statements that never hold the table for long.
 * @returns how many were deleted.
 */
export async function deleteEventsBefore(db: Kysely<Database>, before: number, batch: number): Promise<number> {
  const result = await db
    .deleteFrom("auth_events")
    .where("id", "in", db.selectFrom("auth_events").select("id").where("at", "<", before).orderBy("at").limit(batch))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function toStoredEvent(row: AuthEventRow): StoredAuthEvent {
  return {
    id: row.id,
    type: row.type,
    at: Number(row.at),
    userId: row.user_id,
    sessionId: row.session_id,
    clientAddress: row.client_address,
    userAgent: row.user_agent,
  };
}
