/** Signing keys: the HS256 secret or the key pairs of JWT_KEYS_DIR as KeyObjects made once, and the JWKS document. */
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { ConfigError, type Config, type JwtAlgorithm } from "../config";
import { invariant } from "../errors";
import { type Logger } from "../log";
import { jwkThumbprint, keyFitsAlgorithm, publicJwk, type AsymmetricAlgorithm } from "./jwk";

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
/** No PEM key is anywhere near this; a bigger file in the key folder is not read. */
const MAX_KEY_FILE_BYTES = 64 * 1024;
/** Our kids are 43 characters; anything much longer is refused before the lookup. */
const MAX_KID_LENGTH = 128;

/**
 * Loads the keys the configuration names, once per process; requests only look them up.
 * HS256: SECRET_KEY, or outside production a random key made once and kept in the data folder
 * (mode 0600). RS256, ES256, EdDSA: every `*.pem` of JWT_KEYS_DIR that fits the algorithm; the
 * last private key in file-name order signs (`keys generate` names files by UTC time), all verify.
 * Outside production an empty folder gets a new key; production refuses to start.
 * @throws ConfigError naming JWT_KEYS_DIR when production has no key, or a file is not a PEM key.
 */
export async function loadSigningKeys(config: Config, logger: Logger): Promise<SigningKeys> {
  if (config.jwtAlgorithm === "HS256") return loadSecret(config, logger);
  const algorithm = config.jwtAlgorithm;
  const dir = config.jwtKeysDir;
  let keys = await readKeyFolder(dir, algorithm, logger);
  if (!keys.some((k) => k.privateKey)) {
    if (config.nodeEnv === "production") {
      throw new ConfigError(
        "JWT_KEYS_DIR",
        `(${dir}) holds no ${algorithm} private key; make one with \`npx graphql-auth keys generate --alg ${algorithm}\``,
      );
    }
    const made = await generateSigningKey(dir, algorithm);
    logger.warn({ file: made.file, kid: made.kid }, `JWT_KEYS_DIR held no ${algorithm} key: made one (development and test only)`);
    keys = await readKeyFolder(dir, algorithm, logger);
  }
  const signer = keys.filter((k) => k.privateKey).at(-1);
  // The folder was checked for a private key above, or one was just written into it.
  invariant(signer?.privateKey, "a key folder with a private key");
  const byKid = new Map(keys.map((k) => [k.kid, k.publicKey]));
  const jwks = keys.map((k) => Object.freeze({ ...publicJwk(k.publicKey), kid: k.kid, alg: algorithm, use: "sig" }));
  logger.info({ algorithm, kid: signer.kid, verificationKeys: keys.length }, "signing keys loaded");
  return {
    algorithm,
    signing: { key: signer.privateKey, kid: signer.kid },
    // A plain map lookup: a kid never names a file or reaches a query, whatever it holds.
    verificationKey: (kid) => (kid !== undefined && kid.length <= MAX_KID_LENGTH ? byKid.get(kid) : undefined),
    jwks: Object.freeze({ keys: Object.freeze(jwks) }),
  };
}

export interface GeneratedKey {
  readonly kid: string;
  readonly file: string;
  readonly algorithm: AsymmetricAlgorithm;
}

/**
 * Writes a new private key (PKCS #8 PEM, which holds the public half too) into `dir` with mode
 * 0600, named by UTC time so that it sorts last and signs from the next start.
 * @returns its `kid` (RFC 7638 thumbprint) and file.
 */
export async function generateSigningKey(dir: string, algorithm: AsymmetricAlgorithm, nowMs = Date.now()): Promise<GeneratedKey> {
  const { privateKey, publicKey } = generateKeyPair(algorithm);
  const kid = await jwkThumbprint(publicKey);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = new Date(nowMs).toISOString().replace(/[-:.]/g, "");
  const file = join(dir, `${stamp}-${algorithm.toLowerCase()}-${kid.slice(0, 8)}.pem`);
  // `wx`: never overwrite a key that may still be verifying live tokens.
  writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return { kid, file, algorithm };
}

function generateKeyPair(algorithm: AsymmetricAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (algorithm) {
    case "RS256":
      return generateKeyPairSync("rsa", { modulusLength: 2048 });
    case "ES256":
      return generateKeyPairSync("ec", { namedCurve: "P-256" });
    case "EdDSA":
      return generateKeyPairSync("ed25519");
  }
}

interface LoadedKey {
  readonly file: string;
  readonly kid: string;
  readonly publicKey: KeyObject;
  /** Absent for a public-key file: it verifies tokens of a retired key but signs nothing. */
  readonly privateKey?: KeyObject;
}

/** Every key of `dir` that fits `algorithm`, in file-name order; others are skipped with a warning. */
async function readKeyFolder(dir: string, algorithm: AsymmetricAlgorithm, logger: Logger): Promise<LoadedKey[]> {
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".pem"))
    .map((entry) => entry.name)
    .sort();
  const loaded = new Map<string, LoadedKey>();
  for (const name of names) {
    const file = join(dir, name);
    const stat = statSync(file);
    if (stat.size > MAX_KEY_FILE_BYTES) throw new ConfigError("JWT_KEYS_DIR", `file ${name} is too large to be a PEM key`);
    const key = await parseKeyFile(file, name);
    if (!keyFitsAlgorithm(key.publicKey, algorithm)) {
      logger.warn({ file }, `key file ignored: not a ${algorithm} key`);
      continue;
    }
    if (key.privateKey && (stat.mode & 0o077) !== 0) {
      logger.warn({ file, mode: (stat.mode & 0o777).toString(8) }, "private key file is readable by other users: chmod 600 it");
    }
    // The same key twice (a private file and its public half): the private one counts.
    const kept = loaded.get(key.kid);
    if (!kept || (!kept.privateKey && key.privateKey)) loaded.set(key.kid, key);
  }
  return [...loaded.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

async function parseKeyFile(file: string, name: string): Promise<LoadedKey> {
  const pem = readFileSync(file, "utf8");
  try {
    if (pem.includes("PRIVATE KEY-----")) {
      const privateKey = createPrivateKey(pem);
      const publicKey = createPublicKey(privateKey);
      return { file, kid: await jwkThumbprint(publicKey), publicKey, privateKey };
    }
    const publicKey = createPublicKey(pem);
    return { file, kid: await jwkThumbprint(publicKey), publicKey };
  } catch (error) {
    throw new ConfigError(
      "JWT_KEYS_DIR",
      `file ${name} is not a readable unencrypted PEM key (${error instanceof Error ? error.message : "unreadable"})`,
    );
  }
}

function loadSecret(config: Config, logger: Logger): SigningKeys {
  const secret = config.secretKey ?? developmentSecret(config.dataDir, logger);
  // A KeyObject, made once: given a string, jsonwebtoken 9 tries to parse it as a public key on
  // every call, which measured 42 times slower.
  const key = createSecretKey(Buffer.from(secret, "utf8"));
  return {
    algorithm: "HS256",
    signing: { key },
    // Our HS256 tokens name no key: one that does (a `kid` of any value) was not made here.
    verificationKey: (kid) => (kid === undefined ? key : undefined),
    jwks: Object.freeze({ keys: Object.freeze([]) }),
  };
}

function developmentSecret(dataDir: string, logger: Logger): string {
  const file = join(dataDir, DEV_SECRET_FILE);
  const kept = keptSecret(file);
  if (kept) {
    logger.warn({ file }, "SECRET_KEY is not set: using the development key kept in the data folder");
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0)
      logger.warn({ file, mode: mode.toString(8) }, "development key file is readable by other users: chmod 600 it");
    return kept;
  }
  // The same folder as the database's, made private the same way (db/private-files.ts).
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
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
