/** `graphql-auth keys generate` and `users disable` as token-lifecycle operations, against the real server. */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, loginPair, refreshMutation, whoAmI } from "../support";
import { createTestDatabase, DIALECTS, startTestServer, type TestDatabase } from "../harness";
import { cliEnv, runCli } from "./run-cli";

describe("graphql-auth keys generate", () => {
  let database: TestDatabase;
  let keysDir: string;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    keysDir = mkdtempSync(join(tmpdir(), "graphql-auth-cli-keys-"));
  });
  afterAll(async () => {
    await database?.drop();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it.each(["RS256", "ES256", "EdDSA"])("writes a %s key with mode 0600, prints its kid, and the next start signs with it", async (alg) => {
    const dir = join(keysDir, alg);
    const result = await runCli(["keys", "generate", "--alg", alg], cliEnv(database.url, { JWT_KEYS_DIR: dir, JWT_ALGORITHM: alg }));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(result.stderr).toMatch(new RegExp(`^Wrote ${alg} key .*\\.pem; it signs from the next start\\n$`));
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(statSync(join(dir, files[0]!)).mode & 0o777).toBe(0o600);

    const server = await startTestServer({ env: { JWT_ALGORITHM: alg, JWT_KEYS_DIR: dir }, databaseUrl: database.url });
    try {
      const { username, password } = await server.createUser();
      const { accessToken } = await loginPair(server, username, password);
      expect(decodeJwt(accessToken).header).toMatchObject({ alg, kid: result.stdout.trim() });
      expect(await whoAmI(server, accessToken)).toBe(username);
    } finally {
      await server.close();
    }
  });

  it("defaults to ES256 under HS256 and says how to use it; refuses an unknown algorithm", async () => {
    const dir = join(keysDir, "default");
    const made = await runCli(["keys", "generate"], cliEnv(database.url, { JWT_KEYS_DIR: dir }));
    expect(made.code).toBe(0);
    expect(made.stderr).toContain("JWT_ALGORITHM=ES256 (now HS256)");
    expect(readdirSync(dir)[0]).toMatch(/-es256-/);
    const refused = await runCli(["keys", "generate", "--alg", "HS256"], cliEnv(database.url, { JWT_KEYS_DIR: dir }));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("HS256");
    expect(readdirSync(dir)).toHaveLength(1);
  });
});

describe.each(DIALECTS)("graphql-auth users disable with refresh tokens (%s)", (dialect) => {
  it("revokes the user's refresh tokens; enabling does not bring them back", async () => {
    const server = await startTestServer({ dialect });
    try {
      const { username, password } = await server.createUser();
      const pair = await loginPair(server, username, password);
      const env = cliEnv(server.database.url);
      expect(await runCli(["users", "disable", username], env)).toMatchObject({ code: 0 });
      expect((await refreshMutation(server, pair.refreshToken)).body.errors?.[0]).toMatchObject({
        message: "Invalid refresh token",
        extensions: { code: "UNAUTHENTICATED" },
      });
      expect(await whoAmI(server, pair.accessToken)).toEqual({ code: "FORBIDDEN", message: "Inactive user" });
      expect(await runCli(["users", "enable", username], env)).toMatchObject({ code: 0 });
      expect((await refreshMutation(server, pair.refreshToken)).body.errors?.[0]).toMatchObject({ message: "Invalid refresh token" });
      expect(await whoAmI(server, pair.accessToken)).toBe(username);
    } finally {
      await server.close();
    }
  });
});
