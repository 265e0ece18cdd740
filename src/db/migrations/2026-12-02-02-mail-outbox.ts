/** Migration: the durable mail outbox (CONTRACT section 10). Frozen in time: imports nothing from src/. */
import { type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("mail_outbox")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("recipient", "varchar(320)", (c) => c.notNull())
    .addColumn("subject", "varchar(998)", (c) => c.notNull())
    // The body: deleted (set to null) once the message is delivered or has failed for good, since
    // it holds links with tokens in them.
    .addColumn("text_body", "text")
    .addColumn("html_body", "text")
    // pending, sent or failed.
    .addColumn("status", "varchar(16)", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    // Times in epoch milliseconds.
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
    // A sender claims a message by moving lease_until into the future under its own lease_owner;
    // 0 means unclaimed.
    .addColumn("lease_until", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("lease_owner", "varchar(36)")
    .addColumn("sent_at", "bigint")
    // The Message-ID header, and the last failure as a code (never the server's text).
    .addColumn("message_id", "varchar(255)")
    .addColumn("last_error", "varchar(100)")
    .execute();
  // The sender's poll: pending messages that are due.
  await db.schema.createIndex("mail_outbox_due_idx").on("mail_outbox").columns(["status", "next_attempt_at"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("mail_outbox").execute();
}
