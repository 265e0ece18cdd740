/** ATTACKS.md P14 through `users import`: hostile hash parameters are refused at the door. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliEnv, runCli } from "../cli/run-cli";
import { DIALECTS, startTestServer, uniqueName, type TestServer } from "../harness";

// J5, J6 (the reverse) and J25, under each of RS256, ES256 and EdDSA: test/integration/signing-keys.test.ts.

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
