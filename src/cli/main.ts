#!/usr/bin/env node
/** The operator's CLI, `graphql-auth`: builds the commander program, registers the commands, maps errors to exit codes. */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { ConfigError } from "../config";
import { AppError, ServiceUnavailable } from "../errors";
import { type RegisterCommand } from "./command";
import { registerHashCommand } from "./hash-command";
import { registerKeysCommand } from "./keys-command";
import { registerMigrateCommand } from "./migrate-command";
import { CliRuntime, type CliIO } from "./runtime";
import { registerSecretCommand } from "./secret-command";
import { registerUsersCommand } from "./users-command";
import { registerUsersImportCommand } from "./users-import-command";

/** Every command module, in the order `--help` lists them. A new command is one file and one line here. */
export const COMMANDS: readonly RegisterCommand[] = [
  registerUsersCommand,
  registerUsersImportCommand,
  registerHashCommand,
  registerSecretCommand,
  registerMigrateCommand,
  registerKeysCommand,
];

/** The program with every command registered; errors are thrown to runCli instead of exiting. */
export function buildProgram(runtime: CliRuntime, commands: readonly RegisterCommand[] = COMMANDS): Command {
  const program = new Command("graphql-auth")
    .description("operator commands for graphql-auth-server, on the database that DATABASE_URL names")
    .version(packageVersion())
    // Set before any command is added: subcommands copy these settings when they are created.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => runtime.io.stdout.write(text),
      writeErr: (text) => runtime.io.stderr.write(text),
    });
  for (const register of commands) register(program, runtime);
  return program;
}

/**
 * Runs one command line (`argv` without node and the script) and closes what it opened.
 * @returns the exit code: 0 on success, 1 with one line on stderr for any error.
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const runtime = new CliRuntime(io);
  let code: number;
  try {
    await buildProgram(runtime).parseAsync([...argv], { from: "user" });
    code = 0;
  } catch (error) {
    code = reportError(error, runtime);
  }
  try {
    await runtime.close();
  } catch (error) {
    code = reportError(error, runtime);
  }
  return code;
}

/** One line on stderr; a stack trace only for an unexpected error under LOG_LEVEL=debug or trace. */
function reportError(error: unknown, runtime: CliRuntime): number {
  // Commander has already printed its own one-line message (or the help, whose exit code is 0).
  if (error instanceof CommanderError) return error.exitCode;
  // A database outage (db/outages.ts): the operator reads the driver's own error, as before it was translated.
  if (error instanceof ServiceUnavailable && typeof error.cause === "object" && error.cause !== null) {
    return reportError(error.cause, runtime);
  }
  const line = (text: string) => runtime.io.stderr.write(`error: ${oneLine(text)}\n`);
  // User errors: their messages are written for the operator.
  if (error instanceof AppError || error instanceof ConfigError) {
    line(error.message);
    return 1;
  }
  const level = runtime.configIfLoaded()?.logLevel;
  if ((level === "debug" || level === "trace") && error instanceof Error && error.stack) {
    line(describe(error));
    runtime.io.stderr.write(`${error.stack}\n`);
  } else {
    line(`${describe(error)} (LOG_LEVEL=debug shows the stack trace)`);
  }
  return 1;
}

/** A message for any thrown value; pg throws an AggregateError with an empty message when no address answers. */
function describe(error: unknown): string {
  if (error instanceof AggregateError && !error.message) return error.errors.map(describe).join("; ");
  if (error instanceof Error) return error.message || String((error as { code?: unknown }).code ?? error.name);
  return String(error);
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

function packageVersion(): string {
  // Two levels up from dist/cli (or src/cli under ts-jest) is the package root.
  const pkg = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

if (require.main === module) {
  void runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then((code) => {
    process.exitCode = code;
    // Everything opened was closed, so the process ends by itself; should a handle linger (a prompt's
    // terminal, a pool), it still ends with the right code instead of hanging a script.
    setTimeout(() => process.exit(code), 2000).unref();
  });
}
