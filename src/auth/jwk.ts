/** JSON Web Keys for our asymmetric algorithms: which key fits which alg, public JWKs and RFC 7638 thumbprints. */
import { type JsonWebKey, type KeyObject } from "node:crypto";
import { calculateJwkThumbprint } from "jose";
import { type JwtAlgorithm } from "../config";

export type AsymmetricAlgorithm = Exclude<JwtAlgorithm, "HS256">;

/** The smallest RSA modulus we sign or verify with (NIST SP 800-57, RFC 7518 section 3.3). */
const MIN_RSA_BITS = 2048;

/**
 * Whether `key` (public or private) is of the type `algorithm` signs with: RSA of at least 2048
 * bits for RS256, P-256 for ES256, Ed25519 for EdDSA.
 */
export function keyFitsAlgorithm(key: KeyObject, algorithm: AsymmetricAlgorithm): boolean {
  const details = key.asymmetricKeyDetails;
  switch (algorithm) {
    case "RS256":
      return key.asymmetricKeyType === "rsa" && (details?.modulusLength ?? 0) >= MIN_RSA_BITS;
    case "ES256":
      return key.asymmetricKeyType === "ec" && details?.namedCurve === "prime256v1";
    case "EdDSA":
      return key.asymmetricKeyType === "ed25519";
  }
}

/** The members RFC 7638 section 3.2 lists per key type: the public ones, and all a thumbprint hashes. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = {
  RSA: ["e", "kty", "n"],
  EC: ["crv", "kty", "x", "y"],
  OKP: ["crv", "kty", "x"],
};

/**
 * The JWK of a public key with public members only (RFC 7517): whatever key is passed, only the
 * members RFC 7638 lists for its type are copied, so `d`, `p`, `q`, `dp`, `dq`, `qi` can never leak.
 */
export function publicJwk(publicKey: KeyObject): Record<string, string> {
  const exported = publicKey.export({ format: "jwk" }) as JsonWebKey;
  const members = THUMBPRINT_MEMBERS[String(exported.kty)];
  if (!members) throw new Error(`Unsupported key type for a JWK: ${String(exported.kty)}`);
  return Object.fromEntries(members.map((name) => [name, String(exported[name])]));
}

/** The RFC 7638 thumbprint of a public key (SHA-256, base64url): the `kid` of its tokens. */
export function jwkThumbprint(publicKey: KeyObject): Promise<string> {
  const jwk = publicJwk(publicKey);
  // jose hashes only the members RFC 7638 requires, in the order it requires.
  return calculateJwkThumbprint({ ...jwk, kty: String(jwk.kty) }, "sha256");
}
