/** Migration: sessions, refresh tokens keyed by session; earlier families become sessions. Imports nothing of src/. */
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("sessions")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    // Epoch milliseconds. expires_at is the absolute end (REFRESH_TOKEN_EXPIRE_DAYS from the login).
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("last_used_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("revoked_at", "bigint")
    // Disabling the user ends refreshing only: the session's access tokens are still judged.
    .addColumn("refresh_ended_at", "bigint")
    .addColumn("user_agent", "varchar(512)")
    .addColumn("client_address", "varchar(64)")
    // 0/1: started with a second factor.
    .addColumn("mfa", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex("sessions_user_idx").on("sessions").column("user_id").execute();
  await db.schema.createIndex("sessions_expiry_idx").on("sessions").column("expires_at").execute();

  // Every family made before becomes a session: its first token's id, user, times and revocation
  // (a family was revoked by revoking its first token). Its access tokens carry no sid and are
  // judged as before until they expire.
  await sql`
    insert into sessions (id, user_id, created_at, last_used_at, expires_at, revoked_at, mfa)
    select root.id, root.user_id, root.created_at,
      (select max(t.created_at) from refresh_tokens t where t.family_id = root.id),
      root.family_expires_at, root.revoked_at, 0
    from refresh_tokens root
    where root.id = root.family_id
  `.execute(db);
  // A token whose family's first row is gone (none is made so, but be safe) has no session to join.
  await sql`delete from refresh_tokens where family_id not in (select id from sessions)`.execute(db);

  await db.schema.dropIndex("refresh_tokens_family_idx").execute();
  await db.schema.dropIndex("refresh_tokens_expiry_idx").execute();
  await db.schema.alterTable("refresh_tokens").renameColumn("family_id", "session_id").execute();
  // The session holds the expiry and the revocation now.
  await db.schema.alterTable("refresh_tokens").dropColumn("family_expires_at").execute();
  await db.schema.alterTable("refresh_tokens").dropColumn("revoked_at").execute();
  await db.schema.createIndex("refresh_tokens_session_idx").on("refresh_tokens").column("session_id").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("refresh_tokens_session_idx").execute();
  await db.schema.alterTable("refresh_tokens").addColumn("revoked_at", "bigint").execute();
  await db.schema
    .alterTable("refresh_tokens")
    .addColumn("family_expires_at", "bigint", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("refresh_tokens").renameColumn("session_id", "family_id").execute();
  await sql`
    update refresh_tokens set
      family_expires_at = (select s.expires_at from sessions s where s.id = refresh_tokens.family_id),
      revoked_at = (select s.revoked_at from sessions s where s.id = refresh_tokens.family_id)
  `.execute(db);
  await db.schema.createIndex("refresh_tokens_family_idx").on("refresh_tokens").column("family_id").execute();
  await db.schema.createIndex("refresh_tokens_expiry_idx").on("refresh_tokens").column("family_expires_at").execute();
  await db.schema.dropTable("sessions").execute();
}
