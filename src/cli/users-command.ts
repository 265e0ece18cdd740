/** `graphql-auth users add|disable|enable|delete|unlock|list|mfa-reset`: the operator's account management. */
import { type Command } from "commander";
import { unlockUser } from "../auth/unlock-user";
import { setUserDisabled } from "../auth/user-revocation";
import { InvalidInput, InvalidScope, InvalidUserField } from "../errors";
import { resetMfa } from "../mfa/enrolment";
import { MfaStore } from "../mfa/mfa.store";
import { addUser } from "../users/add-user";
import { deleteUser } from "../users/delete-user";
import { type User } from "../users/user.entity";
import { commandGroup } from "./command";
import { readNewPassword } from "./password-input";
import { type CliRuntime } from "./runtime";

interface AddOptions {
  readonly email?: string;
  readonly fullName?: string;
  readonly scopes?: string;
  readonly disabled?: boolean;
  /** false with --no-email-verified. */
  readonly emailVerified: boolean;
  readonly passwordStdin?: boolean;
}

/** Registers `users add`, `disable`, `enable`, `delete`, `unlock`, `list` and `mfa-reset`. */
export function registerUsersCommand(program: Command, runtime: CliRuntime): void {
  const users = commandGroup(program, "users", "manage user accounts");

  users
    .command("add")
    .description("create a user; the password comes from standard input or a prompt, never an argument")
    .argument(
      "<username>",
      "letters, digits and . _ @ + -, one script (Latin may mix with digits); compared case-insensitively, and refused if it looks like an existing one",
    )
    .option("--email <email>", "e-mail address")
    .option("--full-name <name>", "display name")
    .option("--scopes <scopes>", 'space-separated scopes the account may hold (default: DEFAULT_SCOPES, "me items")')
    .option("--disabled", "create the account disabled")
    .option("--no-email-verified", "leave the address unverified (verified by default: the operator vouches for it)")
    .option("--password-stdin", "read the password from standard input (one trailing newline is removed)")
    .action(async (username: string, options: AddOptions) => {
      const user = await addUser(
        // The pool opens only once a password is to be hashed, as before the use case existed.
        {
          users: await runtime.users(),
          audit: await runtime.audit(),
          passwords: { hash: async (password) => (await runtime.passwords()).hash(password) },
          defaultScopes: runtime.config().accounts.defaultScopes,
        },
        {
          username,
          email: options.email,
          fullName: options.fullName,
          scopes: options.scopes,
          disabled: options.disabled,
          emailVerified: options.emailVerified,
          password: () => readNewPassword(runtime.io, { fromStdin: options.passwordStdin === true }),
        },
      ).catch(explainField);
      runtime.print(
        `Added user ${user.username} (id ${user.id}, scopes: ${user.scopes.join(" ") || "none"}${user.disabled ? ", disabled" : ""}${user.emailVerified ? "" : ", email unverified"})`,
      );
    });

  for (const [name, disabled] of [
    ["disable", true],
    ["enable", false],
  ] as const) {
    users
      .command(name)
      .description(`${name} a user; takes effect on the next request of any of the user's tokens`)
      .argument("<username>")
      .action(async (username: string) => {
        // Every request reloads the user, so existing access tokens meet "Inactive user" at once;
        // disabling also revokes the user's refresh tokens, in the same transaction.
        const deps = { users: await runtime.users(), clock: runtime.clock, audit: await runtime.audit() };
        const user = await setUserDisabled(deps, username, disabled);
        runtime.print(`${disabled ? "Disabled" : "Enabled"} user ${user.username}`);
      });
  }

  users
    .command("mfa-reset")
    .description("turn two-factor authentication off for a user who lost the device (its recovery codes die too)")
    .argument("<username>")
    .action(async (username: string) => {
      const mfa = new MfaStore((await runtime.database()).db);
      const { user, wasEnabled } = await resetMfa({ users: await runtime.users(), mfa, audit: await runtime.audit() }, username);
      runtime.print(
        wasEnabled
          ? `Two-factor authentication turned off for user ${user.username}`
          : `Two-factor authentication was not on for user ${user.username}`,
      );
    });

  users
    .command("delete")
    .description("delete a user; its sessions go with it, and its tokens stop working at their next request")
    .argument("<username>")
    .action(async (username: string) => {
      const user = await deleteUser({ users: await runtime.users(), audit: await runtime.audit() }, username);
      runtime.print(`Deleted user ${user.username}`);
    });

  users
    .command("unlock")
    .description("clear the user's failed-login count, so a locked-out owner can log in at once")
    .argument("<username>")
    .action(async (username: string) => {
      const user = await unlockUser({ users: await runtime.users(), limiter: await runtime.limiter() }, username);
      runtime.print(`Unlocked user ${user.username}`);
    });

  users
    .command("list")
    .description("list the users (never their password hashes)")
    .option("--json", "print a JSON array of { id, username, email, fullName, disabled, scopes, emailVerified }")
    .action(async (options: { json?: boolean }) => {
      const list = await (await runtime.users()).listUsers();
      if (options.json) runtime.print(JSON.stringify(list, null, 2));
      else runtime.print(formatTable(list));
    });
}

/**
 * The operator's one line names the rule a field broke: `Invalid username: mixes scripts (Latin, Cyrillic)`,
 * or which scope token broke the grammar (users/scopes.ts).
 */
function explainField(error: unknown): never {
  if (error instanceof InvalidScope) throw new InvalidInput(`Not a valid scope: ${JSON.stringify(error.token)}`);
  throw error instanceof InvalidUserField ? new InvalidInput(error.detail) : error;
}

/** A plain aligned table; the id comes last because it is long and seldom needed. */
function formatTable(users: readonly User[]): string {
  if (users.length === 0) return "No users.";
  const header = ["USERNAME", "STATUS", "SCOPES", "EMAIL", "FULL NAME", "ID"];
  const rows = users.map((u) => [
    u.username,
    u.disabled ? "disabled" : "active",
    u.scopes.join(" ") || "-",
    u.email ?? "-",
    u.fullName ?? "-",
    u.id,
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => [...row[i]!].length)));
  return [header, ...rows]
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - [...cell].length))).join("  "))
    .join("\n");
}
