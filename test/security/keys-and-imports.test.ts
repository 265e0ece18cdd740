/** ATTACKS.md J5, J6 (reverse), J25 under asymmetric keys; P14 and P16 through users import and login. */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSigningKey } from "../../src/auth/keys";
import { cliEnv, runCli } from "../cli/run-cli";
import { DIALECTS, startTestServer, TEST_SECRET, uniqueName, type TestServer } from "../harness";
import { LEGACY_VECTORS } from "../legacy-vectors";
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
  const login = (u: string, p: string) => server.gql("mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }", { u, p });

  it("J25 under HS256 the JWKS is empty", async () => {
    expect(await (await fetch(`${server.url}/.well-known/jwks.json`)).json()).toEqual({ keys: [] });
  });

  it("P14 hostile hash parameters: users import rejects the line, and login never runs one found in the database", async () => {
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
    for (const stored of hostile) {
      const user = await server.createUser({ passwordHash: stored });
      const before = server.app.passwords.completedTasks;
      const response = await login(user.username, user.password);
      expect(response.body.errors?.[0]?.message).toBe("Incorrect username or password");
      expect(server.app.passwords.completedTasks - before).toBe(1);
    }
  });

  it("P16 real passlib and Django vectors verify, refuse their wrong password, and converge to argon2id", async () => {
    const vectors = LEGACY_VECTORS.filter((v) => /^(passlib|django)-/.test(v.format));
    expect(new Set(vectors.map((v) => v.format))).toEqual(
      new Set(["passlib-pbkdf2-sha256", "passlib-pbkdf2-sha512", "passlib-pbkdf2-sha1", "passlib-bcrypt-sha256-v2", "passlib-bcrypt-sha256-v1", "django-pbkdf2-sha256", "django-pbkdf2-sha1", "django-argon2id", "django-argon2i", "django-bcrypt-sha256", "django-bcrypt"]),
    );
    for (const vector of vectors) {
      const user = await server.createUser({ passwordHash: vector.hash });
      expect(await login(user.username, vector.wrong)).toMatchObject({ body: { errors: [expect.objectContaining({ message: "Incorrect username or password" })] } });
      const ok = await login(user.username, vector.password);
      expect({ id: vector.id, token: typeof ok.body.data?.login?.accessToken }).toEqual({ id: vector.id, token: "string" });
      const row = await server.app.database.db.selectFrom("users").select("password_hash").where("id", "=", user.id).executeTakeFirstOrThrow();
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$/);
    }
  });
});
