/** `graphql-auth hash`: an argon2id PHC string of a password, under the configured ARGON2_* policy. */
import { type Command } from "commander";
import { checkNewPassword } from "../passwords/password-policy";
import { readPasswordFromStdinOrPrompt } from "./password-input";
import { type CliRuntime } from "./runtime";

/** Registers `hash`: reads the password from standard input (or a prompt on a terminal), prints its hash. */
export function registerHashCommand(program: Command, runtime: CliRuntime): void {
  program
    .command("hash")
    .description("print the argon2id hash of the password on standard input (one trailing newline is removed)")
    .action(async () => {
      const password = await readPasswordFromStdinOrPrompt(runtime.io);
      // The same policy as `users add`: the hash is for a password some account will use.
      checkNewPassword(password);
      runtime.print(await (await runtime.passwords()).hash(password));
    });
}
