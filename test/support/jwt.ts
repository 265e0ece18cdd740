/** The one JWT forger: tokens minted byte by byte, so tests can send what no well-behaved library would sign. */
import { createHmac, createPrivateKey, randomUUID, sign as cryptoSign, type KeyLike } from "node:crypto";
import { TEST_SECRET } from "../harness";

/** The iss and aud the test configuration uses (the contract's defaults). */
export const TEST_ISSUER = "graphql-auth-server";
export const TEST_AUDIENCE = "graphql-api";

/** The header the server itself writes under HS256. */
export const STANDARD_HEADER = { alg: "HS256", typ: "at+jwt" } as const;

/** base64url of a string, a buffer, or the JSON of anything else. */
export function b64url(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString("base64url");
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value), "utf8").toString("base64url");
}

/** An asymmetric private key (PEM or KeyObject) and the JWS algorithm to sign with. */
export interface AsymmetricSigner {
  readonly privateKey: string | Buffer | KeyLike;
  readonly alg: "RS256" | "ES256" | "EdDSA";
}

export type HmacHash = "sha256" | "sha384" | "sha512";

/**
 * Signs `<header>.<payload>`; a string header or payload is used as raw JSON text. HMAC (`hash`,
 * SHA-256 by default) with `key` bytes (TEST_SECRET by default), or an asymmetric `signer`.
 */
export function signJws(
  header: unknown,
  payload: unknown,
  options: { key?: string | Buffer; hash?: HmacHash; signer?: AsymmetricSigner } = {},
): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  if (options.signer) {
    const { alg } = options.signer;
    const privateKey =
      typeof options.signer.privateKey === "string" || Buffer.isBuffer(options.signer.privateKey)
        ? createPrivateKey(options.signer.privateKey)
        : options.signer.privateKey;
    const signature =
      alg === "EdDSA"
        ? cryptoSign(null, Buffer.from(input), privateKey)
        : cryptoSign("sha256", Buffer.from(input), alg === "ES256" ? { key: privateKey, dsaEncoding: "ieee-p1363" } : privateKey);
    return `${input}.${signature.toString("base64url")}`;
  }
  const signature = createHmac(options.hash ?? "sha256", options.key ?? TEST_SECRET)
    .update(input)
    .digest("base64url");
  return `${input}.${signature}`;
}

/** The claims the server itself issues, for `sub` at `nowSeconds`, with `extra` members replacing them. */
export function standardClaims(sub: string, nowSeconds: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: TEST_ISSUER,
    sub,
    aud: TEST_AUDIENCE,
    exp: nowSeconds + 1800,
    iat: nowSeconds,
    jti: randomUUID(),
    scope: "me items",
    ...extra,
  };
}

/**
 * A token like the server's, with header members and claims replaced; a member set to `undefined`
 * is left out.
 */
export function forgeToken(
  sub: string,
  nowSeconds: number,
  changes: {
    header?: Record<string, unknown>;
    claims?: Record<string, unknown>;
    key?: string | Buffer;
    hash?: HmacHash;
    signer?: AsymmetricSigner;
  } = {},
): string {
  const header = withoutUndefined({ ...STANDARD_HEADER, ...changes.header });
  const claims = withoutUndefined(standardClaims(sub, nowSeconds, changes.claims));
  return signJws(header, claims, { key: changes.key, hash: changes.hash, signer: changes.signer });
}

/** The decoded header and payload of a JWT, without any check. */
export function decodeJwt(token: string): { header: any; payload: any } {
  const [header, payload] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(header!, "base64url").toString("utf8")),
    payload: JSON.parse(Buffer.from(payload!, "base64url").toString("utf8")),
  };
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
