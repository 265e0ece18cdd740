/** `graphql-auth migrate`: brings the database schema up to date. */
import { type Command } from "commander";
import { type CliRuntime } from "./runtime";

/** Registers `migrate`: applies the pending migrations and says which, or that none were pending. */
export function registerMigrateCommand(program: Command, runtime: CliRuntime): void {
  program
    .command("migrate")
    .description("bring the schema of the database that DATABASE_URL names up to date")
    .action(async () => {
      // Opening the database migrates it, as for every command that touches it.
      const applied = await runtime.appliedMigrations();
      if (applied.length === 0) runtime.print("The database schema is current; nothing to apply.");
      for (const name of applied) runtime.print(`Applied migration ${name}`);
    });
}
