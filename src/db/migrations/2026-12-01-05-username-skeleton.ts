/**
 * Migration: users.skeleton_key, the unique look-alike key of a username (UTS #39 skeleton),
 * backfilled. Frozen in time: imports nothing from src/.
 */
import { type Kysely } from "kysely";
import unhomoglyph from "unhomoglyph";

/** users/skeleton.ts's skeletonKey as of this migration; a later change of it needs a migration of its own. */
function skeletonKey(username: string): string {
  const skeleton = (text: string) => unhomoglyph(text.normalize("NFD").replace(/\p{Default_Ignorable_Code_Point}/gu, "")).normalize("NFD");
  return skeleton(skeleton(username.normalize("NFKC").trim()).toLowerCase());
}

export async function up(db: Kysely<any>): Promise<void> {
  // Nullable: an account that already looks like an older one keeps working (its logins match on
  // username_key as before) with a null key, while the older account's key keeps every new
  // look-alike of both out. A unique index allows any number of nulls on both engines.
  await db.schema.alterTable("users").addColumn("skeleton_key", "text").execute();

  const rows: Array<{ id: string; username: string }> = await db
    .selectFrom("users")
    .select(["id", "username"])
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  const taken = new Set<string>();
  for (const row of rows) {
    const key = skeletonKey(row.username);
    // The oldest account keeps the skeleton; a later look-alike is left without one.
    if (taken.has(key)) continue;
    taken.add(key);
    await db.updateTable("users").set({ skeleton_key: key }).where("id", "=", row.id).execute();
  }
  await db.schema.createIndex("users_skeleton_key_unique").on("users").column("skeleton_key").unique().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("users_skeleton_key_unique").execute();
  await db.schema.alterTable("users").dropColumn("skeleton_key").execute();
}
