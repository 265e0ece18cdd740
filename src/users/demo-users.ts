/** The FastAPI tutorial's demo users, seeded into an empty database in development. */
import { type PasswordService } from "../auth/passwords";
import { type Logger } from "../log";
import { type UserStore } from "./user.store";

/** The tutorial's own bcrypt hash of "secret": johndoe's first login shows the upgrade to argon2id. */
export const JOHNDOE_TUTORIAL_HASH = "$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW";

/**
 * Seeds johndoe (active) and alice (disabled) when the user table is empty.
 * @returns whether anything was seeded.
 */
export async function seedDemoUsers(users: UserStore, passwords: PasswordService, logger: Logger): Promise<boolean> {
  if ((await users.countUsers()) > 0) return false;
  await users.createUser({
    username: "johndoe",
    fullName: "John Doe",
    email: "johndoe@example.com",
    passwordHash: JOHNDOE_TUTORIAL_HASH,
    scopes: ["me", "items"],
  });
  await users.createUser({
    username: "alice",
    fullName: "Alice Chains",
    email: "alicechains@example.com",
    passwordHash: await passwords.hash("secret2"),
    scopes: ["me", "items"],
    disabled: true,
  });
  logger.info("seeded the demo users johndoe and alice (disabled)");
  return true;
}
