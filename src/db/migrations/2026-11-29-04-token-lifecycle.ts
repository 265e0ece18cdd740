/** Migration: refresh tokens (hashes only) and the per-user access-token cut-off. Frozen: imports nothing from src/. */
import { type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  // Epoch milliseconds of the last "revoke every access token" (0: never). bigint on both engines.
  await db.schema
    .alterTable("users")
    .addColumn("token_version", "bigint", (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable("refresh_tokens")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    // Hex SHA-256 of the token: the token itself is never stored.
    .addColumn("token_hash", "varchar(64)", (c) => c.notNull().unique())
    // The id of the first token of the login this one descends from.
    .addColumn("family_id", "varchar(36)", (c) => c.notNull())
    .addColumn("parent_id", "varchar(36)")
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("scopes", "text", (c) => c.notNull())
    // Times in epoch milliseconds. family_expires_at is fixed at login and copied on rotation.
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("family_expires_at", "bigint", (c) => c.notNull())
    .addColumn("spent_at", "bigint")
    .addColumn("revoked_at", "bigint")
    .execute();
  await db.schema.createIndex("refresh_tokens_family_idx").on("refresh_tokens").column("family_id").execute();
  await db.schema.createIndex("refresh_tokens_user_idx").on("refresh_tokens").column("user_id").execute();
  await db.schema.createIndex("refresh_tokens_expiry_idx").on("refresh_tokens").column("family_expires_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("refresh_tokens").execute();
  await db.schema.alterTable("users").dropColumn("token_version").execute();
}
