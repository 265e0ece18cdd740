/** Migrations: a static list, so tsc output, jest and the CLI all run the same set; safe to run at once. */
import { Migrator, SqliteAdapter, sql, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from "kysely";
import * as users from "./migrations/2026-11-29-01-users";
import * as tokenLifecycle from "./migrations/2026-11-29-04-token-lifecycle";
import * as loginAttempts from "./migrations/2026-11-30-01-login-attempts";
import * as pendingLoginAttempts from "./migrations/2026-12-01-01-pending-login-attempts";
import * as usernameSkeleton from "./migrations/2026-12-01-05-username-skeleton";
import * as mailOutbox from "./migrations/2026-12-02-02-mail-outbox";
import * as accounts from "./migrations/2026-12-02-05-accounts";

const MIGRATIONS: Record<string, Migration> = {
  "2026-11-29-01-users": users,
  "2026-11-29-04-token-lifecycle": tokenLifecycle,
  "2026-11-30-01-login-attempts": loginAttempts,
  "2026-12-01-01-pending-login-attempts": pendingLoginAttempts,
  "2026-12-01-05-username-skeleton": usernameSkeleton,
  "2026-12-02-02-mail-outbox": mailOutbox,
  "2026-12-02-05-accounts": accounts,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/**
 * Brings the schema up to date. Several processes may call it at once (instances starting
 * together, `WEB_CONCURRENCY` workers, `graphql-auth migrate` during a deploy): exactly one applies
 * each migration and the others find it applied.
 * - PostgreSQL: Kysely's Migrator holds a session advisory lock (`pg_advisory_lock`) while it reads
 *   the migrations table and migrates, each run in one transaction.
 * - SQLite: Kysely takes no lock there (it assumes one connection in one process), so the whole
 *   run happens inside `BEGIN IMMEDIATE`: the file's write lock, which a second process waits
 *   for (busy_timeout) and then sees the migrations table already written. A failure rolls the
 *   whole run back.
 * @returns the names of the migrations applied now (empty when it was already current).
 * @throws the migration's own error when one fails; the failed migration is rolled back.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const result = db.getExecutor().adapter instanceof SqliteAdapter ? await inSqliteWriteLock(db, () => migrator.migrateToLatest()) : await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return (result.results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/**
 * Runs `run` between BEGIN IMMEDIATE and COMMIT (ROLLBACK when it reports an error). Kysely's
 * SQLite driver has exactly one connection, so statements issued through `db` in between run in
 * this transaction; nothing else uses `db` while an app is still starting.
 */
async function inSqliteWriteLock(db: Kysely<any>, run: () => Promise<MigrationResultSet>): Promise<MigrationResultSet> {
  await sql`begin immediate`.execute(db);
  let result: MigrationResultSet;
  try {
    result = await run();
  } catch (error) {
    await sql`rollback`.execute(db);
    throw error;
  }
  await (result.error ? sql`rollback` : sql`commit`).execute(db);
  return result;
}
