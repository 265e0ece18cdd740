/** The FastAPI tutorial's demo users, seeded into an empty database in development. */
import { type PasswordService } from "../passwords/passwords";
import { UsernameTaken } from "../errors";
import { type Logger } from "../log";
import { type UserStore } from "./user.store";

/** The tutorial's own bcrypt hash of "secret": johndoe's first login shows the upgrade to argon2id. */
export const JOHNDOE_TUTORIAL_HASH = "$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW";

/**
 * Seeds johndoe (active) and alice (disabled) when the user table is empty.
 * @returns whether anything was seeded (false too when another process seeded them first).
 */
export async function seedDemoUsers(users: UserStore, passwords: PasswordService, logger: Logger): Promise<boolean> {
  if ((await users.countUsers()) > 0) return false;
  try {
    await createDemoUsers(users, passwords);
  } catch (error) {
    // Workers or instances starting together all see an empty table; the first insert wins.
    if (error instanceof UsernameTaken) return false;
    throw error;
  }
  logger.info("seeded the demo users johndoe and alice (disabled)");
  return true;
}

/** Both or neither: hashed first, so no transaction waits on argon2. */
async function createDemoUsers(users: UserStore, passwords: PasswordService): Promise<void> {
  const alicesHash = await passwords.hash("secret2");
  await users.transaction(async (store) => {
    await store.createUser({
      username: "johndoe",
      fullName: "John Doe",
      email: "johndoe@example.com",
      passwordHash: JOHNDOE_TUTORIAL_HASH,
      scopes: ["me", "items"],
    });
    await store.createUser({
      username: "alice",
      fullName: "Alice Chains",
      email: "alicechains@example.com",
      passwordHash: alicesHash,
      scopes: ["me", "items"],
      disabled: true,
    });
  });
}
