/** The flood's users, imported with the operator's CLI (`hash`, then `users import`): one stored hash for all, the server's policy. */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../lib/processes";
import { freshPassword, type PoolUser } from "./load";

/**
 * Makes `count` distinct users sharing one password, hashed once by `graphql-auth hash` (so the
 * stored hash has exactly the server's argon2 parameters and no login re-hashes it), imported by
 * `graphql-auth users import`. Registering them one by one would cost `count` hashes; the
 * failed-login limiter counts a login in flight against its username, so a flood of one user's
 * logins would meet RATE_LIMITED rather than the hash queue.
 */
export function importFloodUsers(env: Record<string, string>, count: number, dir: string, prefix: string): PoolUser[] {
  const cli = join(ROOT, "dist", "cli", "main.js");
  const password = freshPassword();
  const run = (args: string[], input?: string) =>
    execFileSync(process.execPath, [cli, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? "", ...env }, input, encoding: "utf8" });
  const hash = run(["hash"], `${password}\n`).trim();
  if (!hash.startsWith("$argon2id$")) throw new Error("graphql-auth hash printed no argon2id hash");
  const users = Array.from({ length: count }, (_, i) => ({ username: `${prefix}-f${i}`, email: `${prefix}-f${i}@example.test`, password }));
  const file = join(dir, "flood-users.jsonl");
  writeFileSync(file, users.map((u) => JSON.stringify({ username: u.username, email: u.email, password_hash: hash })).join("\n") + "\n", {
    mode: 0o600,
  });
  const summary = run(["users", "import", file]);
  if (!summary.includes(`imported ${count}`)) throw new Error(`users import: ${summary.trim()}`);
  return users;
}
