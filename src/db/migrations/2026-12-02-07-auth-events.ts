/** Migration: the audit log and the webhook outbox (CONTRACT section 12). Frozen in time: imports nothing from src/. */
import { type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("auth_events")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("type", "varchar(64)", (c) => c.notNull())
    // Epoch milliseconds.
    .addColumn("at", "bigint", (c) => c.notNull())
    // No foreign key: the events of a deleted user stay until retention deletes them.
    .addColumn("user_id", "varchar(36)")
    .addColumn("session_id", "varchar(36)")
    .addColumn("client_address", "varchar(64)")
    .addColumn("user_agent", "varchar(512)")
    .execute();
  // Newest first: all events (and retention's oldest first), by user, by type.
  await db.schema.createIndex("auth_events_at_idx").on("auth_events").columns(["at", "id"]).execute();
  await db.schema.createIndex("auth_events_user_idx").on("auth_events").columns(["user_id", "at", "id"]).execute();
  await db.schema.createIndex("auth_events_type_idx").on("auth_events").columns(["type", "at", "id"]).execute();

  // One row per event to deliver; the payload is built from the event itself, so nothing here
  // needs deleting when the event is. Claimed with a lease like the mail outbox.
  await db.schema
    .createTable("webhook_outbox")
    .addColumn("event_id", "varchar(36)", (c) => c.primaryKey())
    // The webhook body, as signed: fixed at the event's commit, the same bytes on every retry.
    .addColumn("body", "text", (c) => c.notNull())
    // pending, delivered or failed.
    .addColumn("status", "varchar(16)", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
    .addColumn("lease_until", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("lease_owner", "varchar(36)")
    .addColumn("delivered_at", "bigint")
    // The last failure as a code (`HTTP 500`, `TIMEOUT`), never the receiver's answer.
    .addColumn("last_error", "varchar(100)")
    .execute();
  await db.schema.createIndex("webhook_outbox_due_idx").on("webhook_outbox").columns(["status", "next_attempt_at"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("webhook_outbox").execute();
  await db.schema.dropTable("auth_events").execute();
}
