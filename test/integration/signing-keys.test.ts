import { createPublicKey } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { generateSigningKey, type GeneratedKey } from "../../src/auth/keys";
import { createApp } from "../../src/app";
import { b64url, decodeJwt, expectInvalidToken, loginPair, ME, signJws, standardClaims, whoAmI } from "../support";
import { createTestDatabase, startTestServer, TEST_SECRET, testConfig, type TestServer } from "../harness";

// Keys touch no database: these suites run on SQLite only.
const ALGORITHMS = ["RS256", "ES256", "EdDSA"] as const;
const INVALID_TOKEN = { code: "UNAUTHENTICATED", message: "Could not validate credentials" };
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k"];

/** The claims the server issues, at the system clock's time (these servers run on it). */
function claimsFor(sub: string): Record<string, unknown> {
  return standardClaims(sub, Math.floor(Date.now() / 1000));
}

describe.each(ALGORITHMS)("asymmetric signing with %s", (algorithm) => {
  let keysDir: string;
  let key: GeneratedKey;
  let server: TestServer;
  beforeAll(async () => {
    keysDir = mkdtempSync(join(tmpdir(), "graphql-auth-keys-"));
    key = await generateSigningKey(keysDir, algorithm);
    server = await startTestServer({ env: { JWT_ALGORITHM: algorithm, JWT_KEYS_DIR: keysDir } });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it("signs with the key's kid and verifies its own tokens", async () => {
    const { username, password } = await server.createUser();
    const pair = await loginPair(server, username, password);
    expect(decodeJwt(pair.accessToken).header).toEqual({ alg: algorithm, typ: "at+jwt", kid: key.kid });
    expect(await whoAmI(server, pair.accessToken)).toBe(username);
  });

  it("J25 serves the public key as a JWKS with public members only and a cache lifetime", async () => {
    const response = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("public, max-age=300");
    const jwks = (await response.json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kid: key.kid, alg: algorithm, use: "sig" });
    for (const member of PRIVATE_MEMBERS) expect(jwks.keys[0]).not.toHaveProperty(member);
  });

  it("a standard JOSE library verifies a token through the served JWKS alone", async () => {
    const { username, password, id } = await server.createUser();
    const { accessToken } = await loginPair(server, username, password);
    const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(accessToken, jwks, {
      algorithms: [algorithm],
      issuer: "graphql-auth-server",
      audience: "graphql-api",
      typ: "at+jwt",
    });
    expect(payload).toMatchObject({ sub: id, scope: "me items" });
    expect(protectedHeader.kid).toBe(key.kid);
  });

  it("J5 refuses algorithm confusion: HS256 keyed with the public key's PEM or JWK bytes", async () => {
    const { id } = await server.createUser();
    const publicKey = createPublicKey(readFileSync(key.file, "utf8"));
    const publicPem = publicKey.export({ type: "spki", format: "pem" }) as string;
    const jwk = ((await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: unknown[] }).keys[0];
    const nodeJwk = JSON.stringify(publicKey.export({ format: "jwk" }));
    const secrets = [publicPem, publicPem.trim(), JSON.stringify(jwk), nodeJwk];
    for (const secret of secrets.flatMap((text) => [text, Buffer.from(text)])) {
      for (const header of [
        { alg: "HS256", typ: "at+jwt", kid: key.kid },
        { alg: "HS256", typ: "at+jwt" },
      ]) {
        expectInvalidToken(await server.gql(ME, {}, { token: signJws(header, claimsFor(id), { key: secret }) }));
      }
    }
  });

  it("J6 (reverse) refuses an HS256 token made with the configured SECRET_KEY, and alg none", async () => {
    const { id } = await server.createUser();
    for (const key of [TEST_SECRET, Buffer.from(TEST_SECRET)]) {
      const hs = signJws({ alg: "HS256", typ: "at+jwt" }, claimsFor(id), { key });
      expectInvalidToken(await server.gql(ME, {}, { token: hs }));
    }
    const unsigned = `${b64url({ alg: "none", typ: "at+jwt", kid: key.kid })}.${b64url(claimsFor(id))}.`;
    expectInvalidToken(await server.gql(ME, {}, { token: unsigned }));
  });

  it("refuses an unknown or hostile kid, even on a token signed with the real key", async () => {
    const { id, username } = await server.createUser();
    const signer = { privateKey: readFileSync(key.file, "utf8"), alg: algorithm };
    // The control: the same forging, with the right kid, is accepted (a token minted elsewhere).
    const genuine = signJws({ alg: algorithm, typ: "at+jwt", kid: key.kid }, claimsFor(id), { signer });
    expect(await whoAmI(server, genuine)).toBe(username);
    for (const kid of ["../../../dev/null", "' OR 1=1--", "k".repeat(10_000), "unknown", 42, ""]) {
      const token = signJws({ alg: algorithm, typ: "at+jwt", kid }, claimsFor(id), { signer });
      expect(await whoAmI(server, token)).toEqual(INVALID_TOKEN);
    }
    const noKid = signJws({ alg: algorithm, typ: "at+jwt" }, claimsFor(id), { signer });
    expect(await whoAmI(server, noKid)).toEqual(INVALID_TOKEN);
  });

  it("keeps the header and claim checks: typ, crit, embedded keys, iss, aud, exp", async () => {
    const { id, username } = await server.createUser();
    const signer = { privateKey: readFileSync(key.file, "utf8"), alg: algorithm };
    const header = { alg: algorithm, typ: "at+jwt", kid: key.kid };
    const now = Math.floor(Date.now() / 1000);
    const bad: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [{ ...header, typ: "JWT" }, claimsFor(id)],
      [{ ...header, crit: ["x"] }, claimsFor(id)],
      [{ ...header, jwk: { kty: "OKP" } }, claimsFor(id)],
      [{ ...header, jku: "http://127.0.0.1:1/jwks" }, claimsFor(id)],
      [header, { ...claimsFor(id), iss: "someone-else" }],
      [header, { ...claimsFor(id), aud: "another-api" }],
      [header, { ...claimsFor(id), iat: now - 7200, exp: now - 3600 }],
      [header, { ...claimsFor(id), nbf: now + 3600 }],
      [header, { ...claimsFor(id), jti: undefined }],
    ];
    for (const [h, c] of bad) expect(await whoAmI(server, signJws(h, c, { signer }))).toEqual(INVALID_TOKEN);
    const ours = signJws(header, { ...claimsFor(id), aud: ["x", "graphql-api"] }, { signer });
    expect(await whoAmI(server, ours)).toBe(username);
  });
});

describe("HS256 refuses asymmetric tokens", () => {
  let server: TestServer;
  let keysDir: string;
  beforeAll(async () => {
    keysDir = mkdtempSync(join(tmpdir(), "graphql-auth-keys-"));
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it("J25 publishes an empty JWKS and refuses RS256, ES256 and EdDSA tokens, and any kid", async () => {
    const response = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(await response.json()).toEqual({ keys: [] });
    const { id, username } = await server.createUser();
    for (const algorithm of ALGORITHMS) {
      const made = await generateSigningKey(keysDir, algorithm);
      const signer = { privateKey: readFileSync(made.file, "utf8"), alg: algorithm };
      const token = signJws({ alg: algorithm, typ: "at+jwt", kid: made.kid }, claimsFor(id), { signer });
      expect(await whoAmI(server, token)).toEqual(INVALID_TOKEN);
    }
    const hs = signJws({ alg: "HS256", typ: "at+jwt" }, claimsFor(id), { key: Buffer.from(TEST_SECRET) });
    expect(await whoAmI(server, hs)).toBe(username);
    for (const kid of ["../../../dev/null", "' OR 1=1--", "x".repeat(5000)]) {
      const named = signJws({ alg: "HS256", typ: "at+jwt", kid }, claimsFor(id), { key: Buffer.from(TEST_SECRET) });
      expect(await whoAmI(server, named)).toEqual(INVALID_TOKEN);
    }
  });
});

describe("key rotation across a restart", () => {
  it("old tokens still verify, new ones carry the new kid, the JWKS lists both", async () => {
    const keysDir = mkdtempSync(join(tmpdir(), "graphql-auth-keys-"));
    const database = await createTestDatabase("sqlite");
    const env = { JWT_ALGORITHM: "ES256", JWT_KEYS_DIR: keysDir };
    try {
      const first = await generateSigningKey(keysDir, "ES256", Date.UTC(2026, 0, 1));
      let server = await startTestServer({ env, databaseUrl: database.url });
      const { username, password } = await server.createUser();
      const before = await loginPair(server, username, password);
      expect(decodeJwt(before.accessToken).header.kid).toBe(first.kid);
      await server.close();

      const second = await generateSigningKey(keysDir, "ES256", Date.UTC(2026, 5, 1));
      server = await startTestServer({ env, databaseUrl: database.url });
      try {
        expect(await whoAmI(server, before.accessToken)).toBe(username);
        const after = await loginPair(server, username, password);
        expect(decodeJwt(after.accessToken).header.kid).toBe(second.kid);
        const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
        expect(jwks.keys.map((k) => k.kid).sort()).toEqual([first.kid, second.kid].sort());
        const remote = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
        for (const token of [before.accessToken, after.accessToken]) {
          const { header, payload } = decodeJwt(token);
          const verified = jwtVerify(token, remote, { issuer: "graphql-auth-server", audience: "graphql-api" });
          await expect(verified).resolves.toMatchObject({ protectedHeader: header, payload });
        }
      } finally {
        await server.close();
      }
    } finally {
      await database.drop();
      rmSync(keysDir, { recursive: true, force: true });
    }
  });
});

describe("production start-up without a key", () => {
  it("createApp refuses with a ConfigError naming JWT_KEYS_DIR", async () => {
    const keysDir = mkdtempSync(join(tmpdir(), "graphql-auth-keys-"));
    const database = await createTestDatabase("sqlite");
    try {
      const config = testConfig({ NODE_ENV: "production", JWT_ALGORITHM: "EdDSA", JWT_KEYS_DIR: keysDir, DATABASE_URL: database.url });
      await expect(createApp(config)).rejects.toMatchObject({ name: "ConfigError", key: "JWT_KEYS_DIR" });
    } finally {
      await database.drop();
      rmSync(keysDir, { recursive: true, force: true });
    }
  });

  it("the server exits 1 with one line naming JWT_KEYS_DIR, and needs no SECRET_KEY", async () => {
    const dir = mkdtempSync(join(tmpdir(), "graphql-auth-start-"));
    try {
      const run = promisify(execFile)(process.execPath, [join(__dirname, "..", "..", "dist", "main.js")], {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          NODE_ENV: "production",
          JWT_ALGORITHM: "ES256",
          JWT_KEYS_DIR: join(dir, "keys"),
          DATABASE_URL: `sqlite:${join(dir, "db")}`,
          PORT: "0",
        },
      });
      const failure = await run.then(
        () => undefined,
        (error: { code?: number; stderr?: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr?.trim().split("\n")).toEqual([
        expect.stringMatching(/^Invalid configuration: JWT_KEYS_DIR .*keys generate --alg ES256/),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
