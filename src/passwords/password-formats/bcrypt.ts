/** bcrypt ($2a$, $2b$, $2y$): verified with bcryptjs, which sees the first 72 UTF-8 bytes as bcrypt does. */
import bcrypt from "bcryptjs";
import { HashRejected, type PasswordFormat } from "./format";

/** CONTRACT section 7: a cost over 16 is refused, never computed. */
const MAX_COST = 16;
const MIN_COST = 4;
const MODULAR_CRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/**
 * Checks a `$2x$NN$…` string.
 * @throws HashRejected
 */
export function inspectBcrypt(stored: string, family = "bcrypt"): void {
  const match = MODULAR_CRYPT.exec(stored);
  if (!match) throw new HashRejected(family, "malformed");
  const cost = Number(match[1]);
  if (cost < MIN_COST) throw new HashRejected(family, "malformed");
  if (cost > MAX_COST) throw new HashRejected(family, "out-of-bounds");
}

/**
 * Compares a password (or a pre-hashed key) with a bcrypt string. bcrypt only ever saw the first 72
 * bytes of what it hashed, so longer input verifies exactly as it did in the source system.
 * Synchronous on purpose: this runs in a worker thread, where blocking is the point.
 */
export function verifyBcrypt(secret: string, stored: string): boolean {
  return bcrypt.compareSync(secret, stored);
}

export const bcryptFormat: PasswordFormat = {
  family: "bcrypt",
  normalizesPassword: false,
  computesOnCaller: true,
  // $2$ and $2x$ belong to the family too, so the warning names it; inspect then refuses them.
  matches: (stored) => /^\$2[a-z]?\$/.test(stored),
  inspect: (stored) => inspectBcrypt(stored),
  verify: async (password, stored) => verifyBcrypt(password, stored),
};
