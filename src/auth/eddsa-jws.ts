/** Compact JWS with EdDSA (Ed25519, RFC 8037) through node:crypto, because jsonwebtoken 9 has no EdDSA. */
import { sign, verify, type KeyObject } from "node:crypto";
import { InvalidToken } from "../errors";

/** An Ed25519 signature is always 64 bytes (RFC 8032 section 5.1.6). */
const SIGNATURE_BYTES = 64;

const encode = (value: object): string => Buffer.from(JSON.stringify(value), "utf8").toString("base64url");

/** Signs `payload` under `header` (which must say `alg: "EdDSA"`) with an Ed25519 private key. */
export function signEdDSA(header: Record<string, unknown>, payload: Record<string, unknown>, privateKey: KeyObject): string {
  const input = `${encode(header)}.${encode(payload)}`;
  return `${input}.${sign(null, Buffer.from(input, "ascii"), privateKey).toString("base64url")}`;
}

/**
 * Checks the signature of a compact JWS with an Ed25519 public key and returns its payload.
 * Checks nothing else: header and claims are the caller's, as with every algorithm.
 * @throws InvalidToken for a bad signature, a key of another type, or a payload that is not a JSON object.
 */
export function verifyEdDSA(token: string, publicKey: KeyObject): Record<string, unknown> {
  // Refuse any other key type outright: verify(null, ...) would otherwise pick the key's own scheme.
  if (publicKey.asymmetricKeyType !== "ed25519") throw new InvalidToken("key is not Ed25519");
  const parts = token.split(".");
  if (parts.length !== 3) throw new InvalidToken("malformed");
  const [header, body, signature] = parts as [string, string, string];
  const signatureBytes = Buffer.from(signature, "base64url");
  if (signatureBytes.length !== SIGNATURE_BYTES) throw new InvalidToken("signature length");
  if (!verify(null, Buffer.from(`${header}.${body}`, "ascii"), publicKey, signatureBytes)) throw new InvalidToken("invalid signature");
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    throw new InvalidToken("payload not JSON");
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) throw new InvalidToken("payload not an object");
  return payload as Record<string, unknown>;
}
