/** Migrations: a static list, so tsc output, jest and the CLI all run the same set. */
import { Migrator, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from "kysely";
import * as users from "./migrations/2026-11-29-01-users";
import * as tokenLifecycle from "./migrations/2026-11-29-04-token-lifecycle";
import * as loginAttempts from "./migrations/2026-11-30-01-login-attempts";

const MIGRATIONS: Record<string, Migration> = {
  "2026-11-29-01-users": users,
  "2026-11-29-04-token-lifecycle": tokenLifecycle,
  "2026-11-30-01-login-attempts": loginAttempts,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/**
 * Brings the schema up to date.
 * @returns the names of the migrations applied now (empty when it was already current).
 * @throws the migration's own error when one fails; the failed migration is rolled back.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return (result.results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
