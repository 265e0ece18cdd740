/** Compact JWS with EdDSA (Ed25519, RFC 8037) through jose, because jsonwebtoken 9 has no EdDSA. */
import { type KeyObject } from "node:crypto";
import { CompactSign, compactVerify } from "jose";
import { InvalidToken } from "../errors";

/** Signs `payload` under `header` (which must say `alg: "EdDSA"`) with an Ed25519 private key. */
export function signEdDSA(
  header: Record<string, unknown> & { alg: "EdDSA" },
  payload: Record<string, unknown>,
  privateKey: KeyObject,
): Promise<string> {
  return new CompactSign(Buffer.from(JSON.stringify(payload), "utf8")).setProtectedHeader(header).sign(privateKey);
}

/**
 * Checks the signature of a compact JWS with an Ed25519 public key and returns its payload.
 * Checks nothing else: header and claims are the caller's, as with every algorithm.
 * @throws InvalidToken for a bad signature, a key of another type, or a payload that is not a JSON object.
 */
export async function verifyEdDSA(token: string, publicKey: KeyObject): Promise<Record<string, unknown>> {
  // jose's EdDSA also admits Ed448; the keys we load are Ed25519 only, and nothing else verifies.
  if (publicKey.asymmetricKeyType !== "ed25519") throw new InvalidToken("key is not Ed25519");
  let body: Uint8Array;
  try {
    // `algorithms` pinned, as for jsonwebtoken; the caller has checked the header already.
    ({ payload: body } = await compactVerify(token, publicKey, { algorithms: ["EdDSA"] }));
  } catch (error) {
    throw new InvalidToken(error instanceof Error ? error.message : "unverifiable", error);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    throw new InvalidToken("payload not JSON");
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) throw new InvalidToken("payload not an object");
  return payload as Record<string, unknown>;
}
