/**
 * The password computations, as worker-thread entry points: formats computed in JavaScript run in
 * the pool's threads; argon2 and the rest, whose work libuv's thread pool does, are called from
 * the event loop (see PasswordService).
 */
import { access } from "node:fs/promises";
import { setPriority } from "node:os";
import { isMainThread } from "node:worker_threads";
import { hashArgon2id } from "./password-formats/argon2";
import { findFormat } from "./password-formats";

/**
 * The nice value hashing runs at. A login storm keeps every core busy hashing; at a lower priority
 * the hashes still get every idle cycle, but the event loop answering cheap requests comes first.
 */
export const HASH_THREAD_NICE = 10;

// On Linux a priority belongs to a thread, and a thread starts with its creator's: this sets it
// for this worker (bcrypt and the other formats computed in JavaScript) and, when this thread is
// the first to use libuv's thread pool (startThreadPool), for that pool too, where argon2 and the
// threads of its lanes run. Elsewhere setPriority(0) would lower the whole process, so it is not
// called there.
if (!isMainThread && process.platform === "linux") {
  try {
    setPriority(0, HASH_THREAD_NICE);
  } catch {
    // A sandbox that forbids it: hashing then shares the CPU equally, as without this.
  }
}

/**
 * Run once in a pool thread before any hash: makes this thread, at HASH_THREAD_NICE, the one that
 * starts libuv's thread pool (any file-system call does), so that every pool thread inherits it.
 */
export async function startThreadPool(): Promise<void> {
  await access(__filename);
}

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
