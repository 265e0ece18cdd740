/** `graphql-auth users import <file.jsonl> [--update]`: bulk import with a progress bar on a terminal and a summary line. */
import { type Command } from "commander";
import { SingleBar } from "cli-progress";
import { importUsers, type ImportProgress } from "../users/import-users";
import { UserImportStore } from "../users/user-import.store";
import { commandGroup, type RegisterCommand } from "./command";
import { type CliRuntime } from "./runtime";

/** Registers `users import` beside the other `users` subcommands. */
export const registerUsersImportCommand: RegisterCommand = (program: Command, runtime: CliRuntime) => {
  commandGroup(program, "users", "manage user accounts")
    .command("import")
    .description(
      "import users from a JSONL file: username, password_hash (any verifiable format, or an unusable-password marker: !… or *), email, full_name, scopes, disabled, email_verified (true unless stated)",
    )
    .argument("<file.jsonl>", "one JSON object per line, at most 64 KiB each; bad lines are reported by number and the rest imported")
    .option("--update", "give existing usernames the fields their line states (a password hash written here since is kept)")
    .action(async (file: string, options: { update?: boolean }) => {
      const database = await runtime.database();
      const store = new UserImportStore(database.db, runtime.config().accounts.defaultScopes, runtime.clock);
      const bar = progressBar(runtime);
      let result;
      try {
        result = await importUsers({ store, policy: runtime.config().argon2 }, file, {
          update: options.update === true,
          onProgress: bar?.update,
        });
      } finally {
        bar?.stop();
      }
      for (const rejection of result.rejections) runtime.print(`line ${rejection.line}: ${rejection.reason}`);
      if (options.update) runtime.print(`updated ${result.updated} existing users`);
      const withoutPassword = result.withoutPassword > 0 ? ` (${result.withoutPassword} without a usable password)` : "";
      runtime.print(`imported ${result.imported}${withoutPassword}, skipped ${result.skipped}, rejected ${result.rejected}`);
    });
};

/** A bar on stderr when it is a terminal (stdout keeps only the report); nothing in a pipe or a log. */
function progressBar(runtime: CliRuntime): { update: (p: ImportProgress) => void; stop: () => void } | undefined {
  if (!runtime.io.stderr.isTTY) return undefined;
  const bar = new SingleBar({
    stream: runtime.io.stderr as NodeJS.WritableStream as NodeJS.WriteStream,
    format: "importing [{bar}] {percentage}% | {lines} lines",
    hideCursor: true,
    clearOnComplete: true,
  });
  let started = false;
  return {
    update: ({ bytesRead, totalBytes, lines }) => {
      if (!started) bar.start(Math.max(totalBytes, 1), 0, { lines: 0 });
      started = true;
      bar.update(bytesRead, { lines });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
