/** Migration: login attempts still being verified are counted apart, so one whose process died stops counting. Frozen in time. */
import { type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  // How many of `attempts` are still being verified (not yet known to have failed).
  await db.schema
    .alterTable("login_attempts")
    .addColumn("pending", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  // Milliseconds since the epoch after which every pending attempt of this key is known abandoned.
  await db.schema
    .alterTable("login_attempts")
    .addColumn("pending_until", "bigint", (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("login_attempts").dropColumn("pending_until").execute();
  await db.schema.alterTable("login_attempts").dropColumn("pending").execute();
}
