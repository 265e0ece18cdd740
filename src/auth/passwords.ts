/** The password service: new argon2id hashes, verification of every known format, rehash decisions. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Piscina } from "piscina";
import { type Argon2Policy } from "../config";
import { PasswordPolicyViolation } from "../errors";
import type { HashTask, VerifyTask } from "./hash-worker";
import { isCurrentArgon2 } from "./password-formats/argon2";
import { HashRejected } from "./password-formats/format";
import { findFormat, unsupportedFamily } from "./password-formats";

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

export interface PasswordVerification {
  readonly ok: boolean;
  /** The stored value should be replaced by a hash under the current policy (only when ok). */
  readonly needsRehash: boolean;
  /** Why the stored value was not even computed, for a warning that names no hash. */
  readonly refused?: { family: string; reason: string };
}

/**
 * Checks a new password against the policy (CONTRACT section 3) before anything is hashed.
 * @throws PasswordPolicyViolation naming the bound.
 */
export function checkNewPassword(password: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw new PasswordPolicyViolation(`Password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new PasswordPolicyViolation(`Password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
}

/** Whether a password offered at login can be checked at all; others fail after dummy work. */
export function isVerifiablePassword(password: string): boolean {
  // Counted in characters like checkNewPassword, so that a new password of 1024 characters outside
  // the BMP (2048 UTF-16 units) can still log in; the first comparison keeps huge inputs cheap.
  const withinBound = password.length <= 2 * MAX_PASSWORD_LENGTH && [...password].length <= MAX_PASSWORD_LENGTH;
  return password.length > 0 && withinBound && password.trim() !== "" && !password.includes("\0");
}

export class PasswordService {
  private constructor(
    private readonly pool: Piscina,
    private readonly policy: Argon2Policy,
    private dummyHash: string,
  ) {}

  /**
   * Starts the worker pool (HASH_CONCURRENCY threads: the rest of the work waits its turn) and
   * makes the dummy hash that unknown usernames are checked against.
   */
  static async create(policy: Argon2Policy, concurrency: number): Promise<PasswordService> {
    const pool = new Piscina({
      filename: workerFile(),
      minThreads: 1,
      maxThreads: concurrency,
      idleTimeout: 30_000,
    });
    const service = new PasswordService(pool, policy, "");
    service.dummyHash = await service.hash(randomBytes(24).toString("base64"));
    return service;
  }

  /** An argon2id hash of the NFKC form of `password` under the current policy. */
  hash(password: string): Promise<string> {
    const task: HashTask = { password: password.normalize("NFKC"), policy: { ...this.policy } };
    return this.pool.run(task, { name: "hash" });
  }

  /**
   * Verifies `password` against a stored value of any known format. An empty, unknown, malformed or
   * out-of-bounds stored value costs one dummy verification and answers not ok, so it looks like a
   * wrong password from outside.
   */
  async verify(password: string, stored: string | null | undefined): Promise<PasswordVerification> {
    const format = stored ? findFormat(stored) : undefined;
    if (!stored || !format) {
      await this.verifyDummy(password);
      return { ok: false, needsRehash: false, refused: stored ? { family: unsupportedFamily(stored), reason: "unknown-format" } : undefined };
    }
    try {
      format.inspect(stored);
    } catch (error) {
      if (!(error instanceof HashRejected)) throw error;
      await this.verifyDummy(password);
      return { ok: false, needsRehash: false, refused: { family: error.family, reason: error.reason } };
    }
    const normalized = password.normalize("NFKC");
    // Our own hashes are of the NFKC form; hashes from other systems are of the raw bytes they saw.
    const candidates = format.normalizesPassword && normalized !== password ? [normalized, password] : [format.normalizesPassword ? normalized : password];
    const task: VerifyTask = { candidates, stored };
    const matched: number = await this.pool.run(task, { name: "verify" });
    if (matched < 0) return { ok: false, needsRehash: false };
    const needsRehash = !isCurrentArgon2(stored, this.policy) || candidates[matched] !== normalized;
    return { ok: true, needsRehash };
  }

  /** The same work as verifying a current-policy hash, for callers that have no hash to check. */
  async verifyDummy(password: string): Promise<void> {
    const task: VerifyTask = { candidates: [password.normalize("NFKC")], stored: this.dummyHash };
    await this.pool.run(task, { name: "verify" });
  }

  /** Whether a stored value is of a known format with acceptable parameters (used by import). */
  static inspect(stored: string): { ok: true; family: string } | { ok: false; family: string; reason: string } {
    const format = findFormat(stored);
    if (!format) return { ok: false, family: unsupportedFamily(stored), reason: "unknown-format" };
    try {
      format.inspect(stored);
      return { ok: true, family: format.family };
    } catch (error) {
      if (error instanceof HashRejected) return { ok: false, family: error.family, reason: error.reason };
      throw error;
    }
  }

  /** Hashes and verifications finished so far (tests check that the dummy verification ran). */
  get completedTasks(): number {
    return this.pool.completed;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

function workerFile(): string {
  const compiled = join(__dirname, "hash-worker.js");
  // Under ts-jest this module runs from src/, where only the TypeScript source exists. A worker
  // thread needs plain JavaScript, so it comes from the build (`npm test` builds first).
  return existsSync(compiled) ? compiled : join(__dirname, "..", "..", "dist", "auth", "hash-worker.js");
}
