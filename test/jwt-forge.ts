/** Test-side JWT minting, byte by byte, so tests can send tokens no well-behaved library would sign. */
import { createHmac, randomUUID } from "node:crypto";
import { TEST_SECRET } from "./harness";

/** The iss and aud the test configuration uses (the contract's defaults). */
export const TEST_ISSUER = "graphql-auth-server";
export const TEST_AUDIENCE = "graphql-api";

/** base64url of a string, a buffer, or the JSON of anything else. */
export function b64url(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString("base64url");
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value), "utf8").toString("base64url");
}

/** HMAC-signs `<header>.<payload>`; a string header or payload is used as raw JSON text. */
export function signJws(header: unknown, payload: unknown, options: { key?: string; hash?: "sha256" | "sha384" | "sha512" } = {}): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  const signature = createHmac(options.hash ?? "sha256", options.key ?? TEST_SECRET).update(input).digest("base64url");
  return `${input}.${signature}`;
}

/** The header and claims the server itself issues, for a user at `nowSeconds`. */
export function standardClaims(sub: string, nowSeconds: number): Record<string, unknown> {
  return {
    iss: TEST_ISSUER,
    sub,
    aud: TEST_AUDIENCE,
    exp: nowSeconds + 1800,
    iat: nowSeconds,
    jti: randomUUID(),
    scope: "me items",
  };
}

export const STANDARD_HEADER = { alg: "HS256", typ: "at+jwt" } as const;

/**
 * A token like the server's, with header members and claims replaced; a member set to `undefined`
 * is left out.
 */
export function forgeToken(
  sub: string,
  nowSeconds: number,
  changes: { header?: Record<string, unknown>; claims?: Record<string, unknown>; key?: string; hash?: "sha256" | "sha384" | "sha512" } = {},
): string {
  const header = withoutUndefined({ ...STANDARD_HEADER, ...changes.header });
  const claims = withoutUndefined({ ...standardClaims(sub, nowSeconds), ...changes.claims });
  return signJws(header, claims, { key: changes.key, hash: changes.hash });
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
