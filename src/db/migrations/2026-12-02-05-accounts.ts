/** Migration: accounts (CONTRACT section 10): users.email_verified, one-time tokens. Frozen: imports nothing. */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  // Every account made before sign-up existed came from an operator (CLI, import, seed): verified,
  // as `users add` and `users import` still default to.
  await db.schema
    .alterTable("users")
    .addColumn("email_verified", "boolean", (c) => c.notNull().defaultTo(true))
    .execute();
  // A reset request looks accounts up by address, compared case-insensitively.
  await sql`create index users_email_lower_idx on users (lower(email))`.execute(db);
  await db.schema
    .createTable("account_tokens")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    // Hex SHA-256 of the token; the token itself is never stored.
    .addColumn("token_hash", "varchar(64)", (c) => c.notNull().unique())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    // verify_email or reset_password.
    .addColumn("purpose", "varchar(32)", (c) => c.notNull())
    // Hex SHA-256 of what the token was issued for: the address it was mailed to (verification),
    // or the password hash it may replace (reset), so a change of either kills it.
    .addColumn("binding", "varchar(64)", (c) => c.notNull())
    // Epoch milliseconds.
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("used_at", "bigint")
    .execute();
  await db.schema.createIndex("account_tokens_expires_at_idx").on("account_tokens").column("expires_at").execute();
  await db.schema.createIndex("account_tokens_user_idx").on("account_tokens").column("user_id").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("account_tokens").execute();
  await sql`drop index users_email_lower_idx`.execute(db);
  await db.schema.alterTable("users").dropColumn("email_verified").execute();
}
