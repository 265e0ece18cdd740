/** Migration: the users table (CONTRACT section 5). Frozen in time: imports nothing from src/. */
import { type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("users")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("username", "varchar(150)", (c) => c.notNull())
    .addColumn("username_key", "varchar(150)", (c) => c.notNull().unique())
    .addColumn("email", "varchar(254)")
    .addColumn("full_name", "varchar(255)")
    .addColumn("password_hash", "text")
    .addColumn("disabled", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("scopes", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("created_at", "varchar(32)", (c) => c.notNull())
    .addColumn("updated_at", "varchar(32)", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("users").execute();
}
