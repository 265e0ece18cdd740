/** Benchmark-only writers of passlib and Django hashes at those systems' real default costs. */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import * as argon2 from "argon2";
import bcrypt from "bcryptjs";

// The tests prove the verifiers against vectors made by the real libraries; these writers only
// give the benchmark hashes at realistic costs, which the fixture (tiny costs) cannot.

const ab64 = (bytes: Buffer) => bytes.toString("base64").replace(/=+$/, "").replace(/\+/g, ".");
const b64 = (bytes: Buffer) => bytes.toString("base64").replace(/=+$/, "");

/** passlib pbkdf2_sha256 / _sha512 / _sha1. */
export function passlibPbkdf2(password: string, digest: "sha1" | "sha256" | "sha512", rounds: number): string {
  const salt = randomBytes(16);
  const length = { sha1: 20, sha256: 32, sha512: 64 }[digest];
  const ident = digest === "sha1" ? "pbkdf2" : `pbkdf2-${digest}`;
  return `$${ident}$${rounds}$${ab64(salt)}$${ab64(pbkdf2Sync(password, salt, rounds, length, digest))}`;
}

/** passlib bcrypt_sha256 version 2: bcrypt of base64(HMAC-SHA256(key = salt text, password)). */
export function passlibBcryptSha256(password: string, cost: number): string {
  const config = bcrypt.genSaltSync(cost).replace(/^\$2a\$/, "$2b$");
  const salt = config.slice(7, 29);
  const key = createHmac("sha256", Buffer.from(salt, "ascii")).update(password, "utf8").digest("base64");
  const digest = bcrypt.hashSync(key, config).slice(29);
  return `$bcrypt-sha256$v=2,t=2b,r=${cost}$${salt}$${digest}`;
}

/** Django PBKDF2PasswordHasher (salt used as text, padded base64 key). */
export function djangoPbkdf2(password: string, iterations: number): string {
  const salt = randomBytes(16)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "")
    .slice(0, 22);
  return `pbkdf2_sha256$${iterations}$${salt}$${pbkdf2Sync(password, salt, iterations, 32, "sha256").toString("base64")}`;
}

/** Django BCryptSHA256PasswordHasher: bcrypt of the hex SHA-256. */
export function djangoBcryptSha256(password: string, cost: number): string {
  return `bcrypt_sha256$${bcrypt.hashSync(createHash("sha256").update(password, "utf8").digest("hex"), cost)}`;
}

/** Django Argon2PasswordHasher at its defaults (Django 3.2: t=2, m=102400, p=8). */
export async function djangoArgon2(password: string): Promise<string> {
  const salt = randomBytes(16);
  const params = { memoryCost: 102400, timeCost: 2, parallelism: 8 };
  const hash = await argon2.hash(password, { raw: true, type: argon2.argon2id, salt, hashLength: 16, ...params });
  return `argon2$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$${b64(salt)}$${b64(hash)}`;
}

/** bcrypt as PHP, Rails and the FastAPI tutorial write it. */
export function plainBcrypt(password: string, cost: number): string {
  return bcrypt.hashSync(password, cost).replace(/^\$2a\$/, "$2b$");
}
