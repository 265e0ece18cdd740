/** Migration: two-factor authentication (CONTRACT section 11). Frozen in time: imports nothing from src/. */
import { type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  // One TOTP enrolment per user. secret_box is the base32 secret encrypted with AES-256-GCM
  // (never the secret itself); confirmed_at is null until confirmTotp turns it on.
  await db.schema
    .createTable("mfa_totp")
    .addColumn("user_id", "varchar(36)", (c) => c.primaryKey().references("users.id").onDelete("cascade"))
    .addColumn("secret_box", "varchar(255)", (c) => c.notNull())
    // Epoch milliseconds.
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("confirmed_at", "bigint")
    // The last 30-second step whose code was accepted: a code is good once (RFC 6238 section 5.2).
    .addColumn("last_used_step", "bigint")
    .execute();

  // Recovery codes as SHA-256 digests of their normalised form; used_at set when spent.
  await db.schema
    .createTable("mfa_recovery_codes")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("code_hash", "varchar(64)", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("used_at", "bigint")
    .execute();
  await db.schema.createIndex("mfa_recovery_codes_user_idx").on("mfa_recovery_codes").columns(["user_id", "code_hash"]).execute();

  // The password step of a two-factor login: an mfaToken, stored as its SHA-256 digest, bound to
  // the user, the scopes granted and the token version at the password check.
  await db.schema
    .createTable("mfa_challenges")
    .addColumn("token_hash", "varchar(64)", (c) => c.primaryKey())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("token_version", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("used_at", "bigint")
    .execute();
  await db.schema.createIndex("mfa_challenges_expiry_idx").on("mfa_challenges").column("expires_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("mfa_challenges").execute();
  await db.schema.dropTable("mfa_recovery_codes").execute();
  await db.schema.dropTable("mfa_totp").execute();
}
