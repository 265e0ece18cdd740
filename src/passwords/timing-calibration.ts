/** Start-up calibration of the equal-timing floor: one verification per kind of stored hash the database holds. */
import { PasswordService } from "./passwords";

/** Rows read at start-up at most; a kind only found beyond them is learnt at its first login. */
export const CALIBRATION_SCAN_ROWS = 100_000;
/** Kinds calibrated at most (the floor remembers no more than this many either). */
const MAX_KINDS = 64;

/**
 * Reads stored hashes (the user store's storedPasswordHashes, page by page, so memory stays
 * bounded), keeps one per kind (family and parameters), and verifies a random password against
 * each, so the floor already holds the costliest kind when the first client can time a login.
 * Stops reading once MAX_KINDS are known. Runs before the server reports ready.
 * @returns how many kinds were calibrated.
 */
export async function calibrateFromStoredHashes(storedHashes: AsyncIterable<string>, passwords: PasswordService): Promise<number> {
  const representatives = new Map<string, string>();
  for await (const stored of storedHashes) {
    const kind = PasswordService.kindOf(stored);
    if (kind !== undefined && !representatives.has(kind) && PasswordService.inspect(stored).ok) representatives.set(kind, stored);
    if (representatives.size >= MAX_KINDS) break;
  }
  await passwords.calibrate([...representatives.values()]);
  return representatives.size;
}
