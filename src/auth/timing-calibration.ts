/** Start-up calibration of the equal-timing floor: one verification per kind of stored hash the database holds. */
import { type Kysely } from "kysely";
import { type Database } from "../db/database";
import { PasswordService } from "./passwords";

/** Rows read at start-up at most; a kind only found beyond them is learnt at its first login. */
export const CALIBRATION_SCAN_ROWS = 100_000;
const PAGE_ROWS = 1_000;
/** Kinds calibrated at most (the floor remembers no more than this many either). */
const MAX_KINDS = 64;

/**
 * Reads stored hashes page by page (bounded memory), keeps one per kind (family and parameters),
 * and verifies a random password against each, so the floor already holds the costliest kind
 * when the first client can time a login. Runs before the server reports ready.
 * @returns how many kinds were calibrated.
 */
export async function calibrateFromDatabase(db: Kysely<Database>, passwords: PasswordService): Promise<number> {
  const representatives = new Map<string, string>();
  let after = "";
  for (let scanned = 0; scanned < CALIBRATION_SCAN_ROWS && representatives.size < MAX_KINDS; scanned += PAGE_ROWS) {
    const rows = await db
      .selectFrom("users")
      .select(["id", "password_hash"])
      .where("id", ">", after)
      .where("password_hash", "is not", null)
      .orderBy("id")
      .limit(PAGE_ROWS)
      .execute();
    for (const row of rows) {
      const kind = row.password_hash ? PasswordService.kindOf(row.password_hash) : undefined;
      if (kind !== undefined && !representatives.has(kind) && PasswordService.inspect(row.password_hash!).ok) representatives.set(kind, row.password_hash!);
    }
    if (rows.length < PAGE_ROWS) break;
    after = rows[rows.length - 1]!.id;
  }
  await passwords.calibrate([...representatives.values()]);
  return representatives.size;
}
