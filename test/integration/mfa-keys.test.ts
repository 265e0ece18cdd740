/** Where the TOTP secrets' key comes from (MFA_ENCRYPTION_KEY, SECRET_KEY, or none under an asymmetric algorithm). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Secret, TOTP } from "otpauth";
import { generateSigningKey } from "../../src/auth/keys";
import { decodeJwt } from "../support";
import { startTestServer, type TestServer } from "../harness";

const ENROLL = "mutation { enrollTotp { secret } }";
const LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";

/** Enrols a new user and logs in with password and code; returns the final access token's amr. */
async function enrolAndLogIn(server: TestServer): Promise<unknown> {
  const user = await server.createUser();
  const token = await server.login(user.username, user.password);
  const secret = (await server.gql(ENROLL, {}, { token })).body.data.enrollTotp.secret as string;
  const totp = new TOTP({ secret: Secret.fromBase32(secret) });
  await server.gql("mutation($c: String!) { confirmTotp(code: $c) }", { c: totp.generate({ timestamp: Date.now() - 30_000 }) }, { token });
  const asked = await server.gql(LOGIN, { u: user.username, p: user.password });
  const mfaToken = asked.body.errors?.[0]?.extensions?.mfaToken as string;
  const verified = await server.gql("mutation($t: String!, $c: String!) { verifyMfa(mfaToken: $t, code: $c) { accessToken } }", {
    t: mfaToken,
    c: totp.generate({ timestamp: Date.now() }),
  });
  return decodeJwt(verified.body.data.verifyMfa.accessToken).payload.amr;
}

// Keys touch no database: SQLite only, on the system clock.
describe("the TOTP secrets' key", () => {
  let keysDir: string;
  beforeAll(async () => {
    keysDir = mkdtempSync(join(tmpdir(), "graphql-auth-mfa-keys-"));
    await generateSigningKey(keysDir, "ES256");
  });
  afterAll(() => rmSync(keysDir, { recursive: true, force: true }));

  it("ES256 without SECRET_KEY or MFA_ENCRYPTION_KEY: enrolment refused, FORBIDDEN not configured", async () => {
    const server = await startTestServer({ env: { JWT_ALGORITHM: "ES256", JWT_KEYS_DIR: keysDir, SECRET_KEY: "" } });
    try {
      const user = await server.createUser();
      const token = await server.login(user.username, user.password);
      expect((await server.gql(ENROLL, {}, { token })).body.errors).toEqual([
        expect.objectContaining({
          message: "Two-factor authentication is not configured",
          extensions: { code: "FORBIDDEN" },
        }),
      ]);
      expect((await server.gql("{ me { mfaEnabled } }", {}, { token })).body).toEqual({
        data: { me: { mfaEnabled: false } },
      });
    } finally {
      await server.close();
    }
  });

  it("ES256 with MFA_ENCRYPTION_KEY: the whole flow works", async () => {
    const env = {
      JWT_ALGORITHM: "ES256",
      JWT_KEYS_DIR: keysDir,
      SECRET_KEY: "",
      MFA_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
    };
    const server = await startTestServer({ env });
    try {
      expect(await enrolAndLogIn(server)).toEqual(["pwd", "otp"]);
    } finally {
      await server.close();
    }
  });

  it("MFA_ENCRYPTION_KEY set after users enrolled under SECRET_KEY's key: their codes keep working", async () => {
    const first = await startTestServer();
    const user = await first.createUser();
    const token = await first.login(user.username, user.password);
    const secret = (await first.gql(ENROLL, {}, { token })).body.data.enrollTotp.secret as string;
    const totp = new TOTP({ secret: Secret.fromBase32(secret) });
    const confirm = "mutation($c: String!) { confirmTotp(code: $c) }";
    await first.gql(confirm, { c: totp.generate({ timestamp: Date.now() - 30_000 }) }, { token });
    await first.app.close();
    const env = { MFA_ENCRYPTION_KEY: randomBytes(32).toString("hex") };
    const second = await startTestServer({ databaseUrl: first.database.url, env });
    try {
      const asked = await second.gql(LOGIN, { u: user.username, p: user.password });
      const verified = await second.gql("mutation($t: String!, $c: String!) { verifyMfa(mfaToken: $t, code: $c) { accessToken } }", {
        t: asked.body.errors?.[0]?.extensions?.mfaToken,
        c: totp.generate({ timestamp: Date.now() }),
      });
      expect(decodeJwt(verified.body.data.verifyMfa.accessToken).payload.amr).toEqual(["pwd", "otp"]);
    } finally {
      await second.close();
      await first.database.drop();
    }
  });

  it("a different key opens no stored secret: TOTP codes fail, recovery codes still work", async () => {
    const first = await startTestServer({ env: { MFA_ENCRYPTION_KEY: randomBytes(32).toString("hex") } });
    const user = await first.createUser();
    const token = await first.login(user.username, user.password);
    const secret = (await first.gql(ENROLL, {}, { token })).body.data.enrollTotp.secret as string;
    const totp = new TOTP({ secret: Secret.fromBase32(secret) });
    const confirmed = await first.gql(
      "mutation($c: String!) { confirmTotp(code: $c) }",
      { c: totp.generate({ timestamp: Date.now() - 30_000 }) },
      { token },
    );
    const [recovery] = confirmed.body.data.confirmTotp as string[];
    await first.app.close();
    // The same database, now with SECRET_KEY's derived key instead.
    const second = await startTestServer({ databaseUrl: first.database.url });
    try {
      const mfaToken = async () => (await second.gql(LOGIN, { u: user.username, p: user.password })).body.errors?.[0]?.extensions?.mfaToken;
      const verify = async (code: string) =>
        second.gql("mutation($t: String!, $c: String!) { verifyMfa(mfaToken: $t, code: $c) { accessToken } }", {
          t: await mfaToken(),
          c: code,
        });
      expect((await verify(totp.generate({ timestamp: Date.now() }))).body.errors?.[0]).toMatchObject({
        message: "Invalid code",
      });
      expect((await verify(recovery!)).body.data?.verifyMfa.accessToken).toEqual(expect.any(String));
    } finally {
      await second.close();
      await first.database.drop();
    }
  });
});
