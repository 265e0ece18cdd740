/** The TOTP secret at rest: AES-256-GCM under the MFA key, bound to the user it belongs to. */
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, type KeyObject } from "node:crypto";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_INFO = "graphql-auth-server totp secret v1";

/** The keys of the TOTP secrets: the one new secrets are sealed with, and every one that may open a stored box. */
export interface MfaKeys {
  /** Undefined without MFA_ENCRYPTION_KEY or SECRET_KEY: enrolment is refused. */
  readonly seal: KeyObject | undefined;
  readonly open: readonly KeyObject[];
}

/**
 * MFA_ENCRYPTION_KEY's 32 bytes as given, and HKDF-SHA256 of SECRET_KEY (a key derived for this
 * purpose, never the signing key itself). The first present seals; both open, so a deployment
 * that sets MFA_ENCRYPTION_KEY after users enrolled under SECRET_KEY's key keeps their secrets.
 */
export function mfaKeysFrom(source: { readonly encryptionKey?: Buffer; readonly signingSecret?: Buffer }): MfaKeys {
  const configured = source.encryptionKey && createSecretKey(source.encryptionKey);
  const derived = source.signingSecret && createSecretKey(Buffer.from(hkdfSync("sha256", source.signingSecret, "", KEY_INFO, 32)));
  const open = [configured, derived].filter((key): key is KeyObject => key !== undefined);
  return { seal: open[0], open };
}

/**
 * Encrypts `secret` for `userId`: `v1.<iv>.<ciphertext>.<tag>` in base64url. The user id is the
 * additional authenticated data, so a box copied onto another user's row does not open.
 */
export function sealSecret(key: KeyObject, userId: string, secret: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(userId, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return [VERSION, iv, ciphertext, cipher.getAuthTag()]
    .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
    .join(".");
}

/**
 * Opens a box sealed by sealSecret for `userId` with the first of `keys` that fits.
 * @returns the secret, or undefined when none opens it (another key, another user, altered).
 */
export function openSecret(keys: readonly KeyObject[], userId: string, box: string): string | undefined {
  for (const key of keys) {
    const secret = openWith(key, userId, box);
    if (secret !== undefined) return secret;
  }
  return undefined;
}

function openWith(key: KeyObject, userId: string, box: string): string | undefined {
  const [version, iv, ciphertext, tag, ...rest] = box.split(".");
  if (version !== VERSION || iv === undefined || ciphertext === undefined || tag === undefined || rest.length > 0) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(userId, "utf8"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    return undefined;
  }
}
