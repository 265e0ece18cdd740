/** `graphql-auth secret`: a fresh random key for SECRET_KEY. */
import { randomBytes } from "node:crypto";
import { type Command } from "commander";
import { type CliRuntime } from "./runtime";

/**
 * Registers `secret`: 32 random bytes from the OS CSPRNG, hex (64 characters); with `--webhook`, a
 * Standard Webhooks secret for WEBHOOK_SECRET (`whsec_` + base64 of 32 random bytes). Needs no
 * configuration.
 */
export function registerSecretCommand(program: Command, runtime: CliRuntime): void {
  program
    .command("secret")
    .description("print a fresh 32-byte random key, hex, for SECRET_KEY")
    .option("--webhook", "print a webhook signing secret for WEBHOOK_SECRET instead (whsec_ + base64)")
    .action((options: { webhook?: boolean }) => {
      const bytes = randomBytes(32);
      runtime.print(options.webhook ? `whsec_${bytes.toString("base64")}` : bytes.toString("hex"));
    });
}
