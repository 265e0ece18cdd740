/** How a command module plugs into the CLI: one register function per module, listed in main.ts. */
import { type Command } from "commander";
import { type CliRuntime } from "./runtime";

/**
 * Adds one command (or one subcommand of a group) to the program. Actions reach config, database,
 * stores and passwords through `runtime`, which opens them on first use and closes them at exit,
 * and report user errors by throwing an AppError or ConfigError: main.ts turns those into one line
 * on stderr and exit code 1.
 *
 * @example
 * // src/cli/users-import-command.ts, then `registerUsersImportCommand` added to COMMANDS in main.ts
 * export const registerUsersImportCommand: RegisterCommand = (program, runtime) => {
 *   commandGroup(program, "users", "manage user accounts")
 *     .command("import")
 *     .argument("<file.jsonl>")
 *     .action(async (file: string) => {
 *       const users = await runtime.users(); // opened and migrated on first use, closed at exit
 *       runtime.print(`Imported ... from ${file}`);
 *     });
 * };
 */
export type RegisterCommand = (program: Command, runtime: CliRuntime) => void;

/**
 * The command group `name` (such as `users`), made on first use, so that modules registered one
 * after another can each add subcommands to it (`users add`, then `users import` from another file).
 */
export function commandGroup(program: Command, name: string, description: string): Command {
  const existing = program.commands.find((command) => command.name() === name);
  return existing ?? program.command(name).description(description);
}
