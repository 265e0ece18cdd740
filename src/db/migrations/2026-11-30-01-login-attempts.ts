/** Migration: failed-login counters shared by every instance (CONTRACT section 7). Frozen in time. */
import { type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("login_attempts")
    // "user:<username key>" or "addr:<client address>"; long usernames are stored as a digest.
    .addColumn("key", "varchar(200)", (c) => c.primaryKey())
    .addColumn("attempts", "integer", (c) => c.notNull())
    // Milliseconds since the epoch at which this window ends and the count starts again.
    .addColumn("reset_at", "bigint", (c) => c.notNull())
    .execute();
  // Expired windows are swept by reset_at.
  await db.schema.createIndex("login_attempts_reset_at").on("login_attempts").column("reset_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("login_attempts").execute();
}
