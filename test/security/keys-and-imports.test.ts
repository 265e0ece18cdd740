/** ATTACKS.md J5, J6 (reverse), J25 under asymmetric keys; P14 through users import. */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSigningKey } from "../../src/auth/keys";
import { cliEnv, runCli } from "../cli/run-cli";
import { DIALECTS, startTestServer, TEST_SECRET, uniqueName, type TestServer } from "../harness";
import { epochSeconds } from "../../src/clock";
import { expectInvalidToken, ME, movableClock, signJws, standardClaims, STANDARD_HEADER } from "../support";

describe("asymmetric keys (RS256)", () => {
  const dir = mkdtempSync(join(tmpdir(), "graphql-auth-keys-"));
  const clock = movableClock();
  /** The claims the server issues, at the suite clock's time. */
  const claims = (sub: string, extra?: Record<string, unknown>) => standardClaims(sub, epochSeconds(clock), extra);
  let server: TestServer;
  let user: { id: string; username: string; password: string };
  beforeAll(async () => {
    await generateSigningKey(dir, "RS256");
    server = await startTestServer({ clock, env: { JWT_ALGORITHM: "RS256", JWT_KEYS_DIR: dir } });
    user = await server.createUser();
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const hmacToken = (key: string | Buffer, kid?: string) => signJws({ ...STANDARD_HEADER, ...(kid && { kid }) }, claims(user.id), { key });

  it("J5 algorithm confusion: HS256 keyed with the server's public key (PEM and JWK bytes) is refused", async () => {
    const file = readdirSync(dir).find((f) => f.endsWith(".pem"))!;
    const publicKey = createPublicKey(createPrivateKey(readFileSync(join(dir, file))));
    const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
    const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, string>> };
    const kid = jwks.keys[0]!.kid;
    for (const key of [pem, Buffer.from(pem), JSON.stringify(jwks.keys[0]), JSON.stringify(publicKey.export({ format: "jwk" }))]) {
      expectInvalidToken(await server.gql(ME, {}, { token: hmacToken(key, kid) }));
      expectInvalidToken(await server.gql(ME, {}, { token: hmacToken(key) }));
    }
  });

  it("J6 an HS256 token against an RS256 deployment is refused; its own RS256 token accepted", async () => {
    expectInvalidToken(await server.gql(ME, {}, { token: signJws(STANDARD_HEADER, claims(user.id), { key: TEST_SECRET }) }));
    const token = await server.login(user.username, user.password);
    expect((await server.gql(ME, {}, { token })).body.data?.me.id).toBe(user.id);
  });

  it("J25 the JWKS has public members only", async () => {
    const response = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    const { keys } = (await response.json()) as { keys: Array<Record<string, unknown>> };
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) for (const secret of ["d", "p", "q", "dp", "dq", "qi", "k"]) expect(key).not.toHaveProperty(secret);
  });
});

describe.each(DIALECTS)("imports and legacy formats (%s)", (dialect) => {
  let server: TestServer;
  const dir = mkdtempSync(join(tmpdir(), "graphql-auth-import-"));
  beforeAll(async () => {
    server = await startTestServer({ dialect, env: { LOGIN_MAX_FAILURES: "1000" } });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("J25 under HS256 the JWKS is empty", async () => {
    expect(await (await fetch(`${server.url}/.well-known/jwks.json`)).json()).toEqual({ keys: [] });
  });

  it("P14 hostile hash parameters: users import rejects the line", async () => {
    const hostile = [
      `$2b$31$${"a".repeat(53)}`,
      "$argon2id$v=19$m=4194304,t=4294967295,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
      "pbkdf2_sha256$2147483647$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=",
      "$scrypt$ln=30,r=8,p=1$c2FsdA$aGFzaA",
    ];
    const names = hostile.map(() => uniqueName("hostile"));
    const file = join(dir, "hostile.jsonl");
    writeFileSync(file, `${names.map((username, i) => JSON.stringify({ username, password_hash: hostile[i] })).join("\n")}\n`);
    const result = await runCli(["users", "import", file], cliEnv(server.database.url));
    expect(result.stdout).toMatch(/imported 0, skipped 0, rejected 4/);
    for (let line = 1; line <= 4; line++) expect(`${result.stdout}${result.stderr}`).toContain(`line ${line}:`);
    // Logins on these values, once in the database: P14 in login.test.ts (one dummy computation each).
  });
  // P16 (real passlib and Django vectors at login): test/integration/legacy-hash-login.test.ts.
});
