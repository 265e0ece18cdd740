/** Signing keys: the HS256 secret as a KeyObject made once, and the JWKS document. */
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSecretKey, randomBytes, type KeyObject } from "node:crypto";
import { type Config, type JwtAlgorithm } from "../config";
import { type Logger } from "../log";

export interface SigningKeys {
  readonly algorithm: JwtAlgorithm;
  /** The key new tokens are signed with, and its `kid` (absent for the HS256 secret). */
  readonly signing: { readonly key: KeyObject; readonly kid?: string };
  /** Looks up the verification key for a token's `kid`; undefined for an unknown one. */
  verificationKey(kid: string | undefined): KeyObject | undefined;
  /** The public JWKS document (RFC 7517); `{ keys: [] }` under HS256. */
  readonly jwks: { readonly keys: readonly Record<string, unknown>[] };
}

export const DEV_SECRET_FILE = "secret.key";

/**
 * Loads the keys the configuration names, once per process.
 * Under HS256 without SECRET_KEY (development and test only: production refuses at config time),
 * a random key is made once and kept in the data folder with mode 0600.
 */
export function loadSigningKeys(config: Config, logger: Logger): SigningKeys {
  const secret = config.secretKey ?? developmentSecret(config.dataDir, logger);
  // A KeyObject, made once: given a string, jsonwebtoken 9 tries to parse it as a public key on
  // every call, which measured 42 times slower.
  const key = createSecretKey(Buffer.from(secret, "utf8"));
  return {
    algorithm: "HS256",
    signing: { key },
    verificationKey: () => key,
    jwks: Object.freeze({ keys: Object.freeze([]) }),
  };
}

function developmentSecret(dataDir: string, logger: Logger): string {
  const file = join(dataDir, DEV_SECRET_FILE);
  const kept = keptSecret(file);
  if (kept) {
    logger.warn({ file }, "SECRET_KEY is not set: using the development key kept in the data folder");
    return kept;
  }
  mkdirSync(dataDir, { recursive: true });
  const made = randomBytes(32).toString("hex");
  // Written aside, then linked into place: link fails if the file exists, so when several
  // processes start at once (WEB_CONCURRENCY workers) one key wins and every process signs with it.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(draft, `${made}\n`, { mode: 0o600, flag: "wx" });
  try {
    // A file too short to use is replaced outright.
    if (existsSync(file)) renameSync(draft, file);
    else linkSync(draft, file);
  } catch (error) {
    const other = (error as NodeJS.ErrnoException).code === "EEXIST" ? keptSecret(file) : undefined;
    if (!other) throw error;
    logger.warn({ file }, "SECRET_KEY is not set: using the development key another process just made");
    return other;
  } finally {
    rmSync(draft, { force: true });
  }
  logger.warn({ file }, "SECRET_KEY is not set: made a random development key and kept it in the data folder");
  return made;
}

function keptSecret(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const kept = readFileSync(file, "utf8").trim();
  return Buffer.byteLength(kept) >= 32 ? kept : undefined;
}
