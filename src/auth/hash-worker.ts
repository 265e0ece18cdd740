/** Worker-thread entry points for the password pool: every hash and verification runs here. */
import { hashArgon2id } from "./password-formats/argon2";
import { findFormat } from "./password-formats";

export interface VerifyTask {
  readonly candidates: readonly string[];
  readonly stored: string;
}

/**
 * Tries each candidate form of the password against the stored value.
 * @returns the index of the candidate that matched, or -1.
 */
export async function verify({ candidates, stored }: VerifyTask): Promise<number> {
  const format = findFormat(stored);
  if (!format) return -1;
  // The caller inspected already; checking again here means no path can reach a hostile cost.
  try {
    format.inspect(stored);
  } catch {
    return -1;
  }
  for (let i = 0; i < candidates.length; i++) {
    if (await format.verify(candidates[i]!, stored)) return i;
  }
  return -1;
}

export interface HashTask {
  readonly password: string;
  readonly policy: { memoryCost: number; timeCost: number; parallelism: number };
}

export function hash({ password, policy }: HashTask): Promise<string> {
  return hashArgon2id(password, policy);
}
