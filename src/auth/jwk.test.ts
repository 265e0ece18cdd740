import { createHash, generateKeyPairSync } from "node:crypto";
import { calculateJwkThumbprint } from "jose";
import { jwkThumbprint, keyFitsAlgorithm, publicJwk } from "./jwk";

const PAIRS = {
  RS256: () => generateKeyPairSync("rsa", { modulusLength: 2048 }),
  ES256: () => generateKeyPairSync("ec", { namedCurve: "P-256" }),
  EdDSA: () => generateKeyPairSync("ed25519"),
} as const;

describe.each(Object.keys(PAIRS) as Array<keyof typeof PAIRS>)("JWK helpers with %s", (algorithm) => {
  const { publicKey, privateKey } = PAIRS[algorithm]();

  it("computes the RFC 7638 thumbprint that jose computes from the whole JWK", async () => {
    const expected = await calculateJwkThumbprint(publicKey.export({ format: "jwk" }) as never, "sha256");
    expect(await jwkThumbprint(publicKey)).toBe(expected);
  });

  it("keeps the kids of existing keys: SHA-256 of the canonical JSON of the required members (RFC 7638 section 3)", async () => {
    const exported = publicKey.export({ format: "jwk" }) as Record<string, string>;
    const required = { RSA: ["e", "kty", "n"], EC: ["crv", "kty", "x", "y"], OKP: ["crv", "kty", "x"] }[exported.kty!]!;
    const canonical = JSON.stringify(Object.fromEntries(required.map((name) => [name, exported[name]])));
    expect(await jwkThumbprint(publicKey)).toBe(createHash("sha256").update(canonical).digest("base64url"));
  });

  it("copies public members only, even from a private key", () => {
    const jwk = publicJwk(privateKey);
    for (const member of ["d", "p", "q", "dp", "dq", "qi", "k"]) expect(jwk).not.toHaveProperty(member);
    expect(jwk).toEqual(publicJwk(publicKey));
  });

  it("matches the key to its algorithm and no other", () => {
    for (const other of Object.keys(PAIRS) as Array<keyof typeof PAIRS>) {
      expect(keyFitsAlgorithm(publicKey, other)).toBe(other === algorithm);
    }
  });
});

it("refuses RSA keys under 2048 bits and EC keys off P-256", () => {
  expect(keyFitsAlgorithm(generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey, "RS256")).toBe(false);
  expect(keyFitsAlgorithm(generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey, "ES256")).toBe(false);
  expect(keyFitsAlgorithm(generateKeyPairSync("ed448").publicKey, "EdDSA")).toBe(false);
});
