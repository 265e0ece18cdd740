/** `graphql-auth secret`: a fresh random key for SECRET_KEY. */
import { randomBytes } from "node:crypto";
import { type Command } from "commander";
import { type CliRuntime } from "./runtime";

/** Registers `secret`: 32 random bytes from the OS CSPRNG, hex (64 characters). Needs no configuration. */
export function registerSecretCommand(program: Command, runtime: CliRuntime): void {
  program
    .command("secret")
    .description("print a fresh 32-byte random key, hex, for SECRET_KEY")
    .action(() => {
      runtime.print(randomBytes(32).toString("hex"));
    });
}
