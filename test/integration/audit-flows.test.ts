/**
 * The audit events of sign-up, email verification, password reset, two-factor and the admin API
 * (CONTRACT section 12), each from the action that causes it, over HTTP on both dialects; none holds
 * a password, token or code the test used.
 */
import { Secret, TOTP } from "otpauth";
import { DIALECTS, type TestUser } from "../harness";
import { REQUEST_RESET, RESET, useAccountsServer, VERIFY } from "../support/accounts";

const LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken refreshToken } }";
const VERIFY_MFA = "mutation($t: String!, $c: String!) { verifyMfa(mfaToken: $t, code: $c) { accessToken } }";
const STEP_MS = 30_000;

interface StoredEvent {
  type: string;
  user_id: string | null;
  session_id: string | null;
  client_address: string | null;
}

function totpAt(secret: string, atMs: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 }).generate({
    timestamp: atMs,
  });
}

describe.each(DIALECTS)("audit events of accounts, two-factor and administration (%s)", (dialect) => {
  const accounts = useAccountsServer(dialect);
  /** Every password, token and code this suite used, to search the stored events for. */
  const secrets: string[] = [];

  async function eventsOf(userId: string): Promise<StoredEvent[]> {
    return accounts.server.app.database.db
      .selectFrom("auth_events")
      .select(["type", "user_id", "session_id", "client_address"])
      .where("user_id", "=", userId)
      .execute();
  }
  /** The types recorded for a user, sorted: the suite's clock stands still, so events share one instant. */
  const typesOf = async (userId: string) => (await eventsOf(userId)).map((event) => event.type).sort();

  async function login(username: string, password: string) {
    return accounts.gql(LOGIN, { u: username, p: password });
  }

  it("register, verifyEmail, requestPasswordReset and resetPassword record their events", async () => {
    const { email, password, user } = await accounts.registerUser();
    secrets.push(password);
    const [verification] = await accounts.nextMailTo(email);
    const verifyToken = accounts.tokenIn(verification!, "verify-email");
    expect((await accounts.gql(VERIFY, { token: verifyToken })).body).toEqual({ data: { verifyEmail: true } });
    expect((await accounts.gql(REQUEST_RESET, { email })).body).toEqual({ data: { requestPasswordReset: true } });
    const mails = await accounts.nextMailTo(email, 2);
    const resetToken = accounts.tokenIn(mails[1]!, "reset-password");
    const newPassword = "a new and uncommon passphrase";
    const reset = await accounts.gql(RESET, { token: resetToken, newPassword });
    expect(reset.body).toEqual({ data: { resetPassword: true } });
    secrets.push(verifyToken, resetToken, newPassword);

    expect(await typesOf(user.id)).toEqual(
      ["user.registered", "email.verification_sent", "email.verified", "password.reset_requested", "password.reset"].sort(),
    );
    // The sign-up records where it came from (the request's address, through X-Forwarded-For here).
    const registered = (await eventsOf(user.id)).find((event) => event.type === "user.registered")!;
    expect(registered.client_address).toBe(accounts.address);
  });

  it("two-factor: enabling, the password step, a wrong and a right code, and disabling", async () => {
    const created = await accounts.server.createUser();
    secrets.push(created.password);
    const token = (await login(created.username, created.password)).body.data.login.accessToken as string;
    const enrolment = await accounts.gql("mutation { enrollTotp { secret } }", {}, token);
    const secret = enrolment.body.data.enrollTotp.secret as string;
    const confirmCode = totpAt(secret, accounts.clock.now());
    const confirmed = await accounts.gql("mutation($c: String!) { confirmTotp(code: $c) }", { c: confirmCode }, token);
    expect(confirmed.body.data.confirmTotp).toHaveLength(10);
    secrets.push(token, secret, confirmCode, ...(confirmed.body.data.confirmTotp as string[]));
    accounts.clock.advance(2 * STEP_MS);

    const challenged = await login(created.username, created.password);
    expect(challenged.body.errors?.[0]?.extensions?.code).toBe("MFA_REQUIRED");
    const mfaToken = challenged.body.errors![0]!.extensions!.mfaToken as string;
    const wrong = await accounts.gql(VERIFY_MFA, { t: mfaToken, c: "000000" === confirmCode ? "111111" : "000000" });
    expect(wrong.body.errors?.[0]?.message).toBe("Invalid code");
    const code = totpAt(secret, accounts.clock.now());
    const verified = await accounts.gql(VERIFY_MFA, { t: mfaToken, c: code });
    const mfaAccess = verified.body.data.verifyMfa.accessToken as string;
    secrets.push(mfaToken, code, mfaAccess);
    const off = await accounts.gql("mutation($p: String!) { disableTotp(password: $p) }", { p: created.password }, mfaAccess);
    expect(off.body).toEqual({ data: { disableTotp: true } });

    expect(await typesOf(created.id)).toEqual(
      ["login.succeeded", "mfa.enabled", "login.mfa_required", "mfa.failed", "mfa.succeeded", "mfa.disabled"].sort(),
    );
    const events = await eventsOf(created.id);
    // The second factor's success starts the session it names.
    const succeeded = events.find((event) => event.type === "mfa.succeeded")!;
    const sid = JSON.parse(Buffer.from(mfaAccess.split(".")[1]!, "base64url").toString()).sid as string;
    expect(succeeded.session_id).toBe(sid);
  });

  describe("the admin API", () => {
    let admin: TestUser;
    let adminToken: string;
    beforeAll(async () => {
      admin = await accounts.server.createUser({ prefix: "root", scopes: ["me", "admin"] });
      adminToken = (await login(admin.username, admin.password)).body.data.login.accessToken as string;
      secrets.push(admin.password, adminToken);
    });

    it("updateUser records user.updated and a new address is unverified; deleteUser records user.deleted", async () => {
      // The harness makes accounts through the store (no event of their own), verified, at username@example.com.
      const target = await accounts.server.createUser();
      const before = `${target.username}@example.com`;
      const update = `mutation($id: ID!, $e: String) { updateUser(id: $id, input: { email: $e }) { email emailVerified } }`;
      const same = await accounts.gql(update, { id: target.id, e: before }, adminToken);
      expect(same.body).toEqual({ data: { updateUser: { email: before, emailVerified: true } } });
      const changed = await accounts.gql(update, { id: target.id, e: "after@example.com" }, adminToken);
      expect(changed.body).toEqual({ data: { updateUser: { email: "after@example.com", emailVerified: false } } });
      const deleted = await accounts.gql("mutation($id: ID!) { deleteUser(id: $id) }", { id: target.id }, adminToken);
      expect(deleted.body).toEqual({ data: { deleteUser: true } });
      expect(await typesOf(target.id)).toEqual(["user.deleted", "user.updated", "user.updated"]);
    });

    it("resetUserMfa turns two-factor off (mfa.disabled) and needs scope admin", async () => {
      const target = await accounts.server.createUser();
      secrets.push(target.password);
      const token = (await login(target.username, target.password)).body.data.login.accessToken as string;
      const secret = (await accounts.gql("mutation { enrollTotp { secret } }", {}, token)).body.data.enrollTotp.secret;
      const code = totpAt(secret as string, accounts.clock.now());
      await accounts.gql("mutation($c: String!) { confirmTotp(code: $c) }", { c: code }, token);
      secrets.push(token, secret as string, code);
      const reset = "mutation($id: ID!) { resetUserMfa(id: $id) }";

      const refused = await accounts.gql(reset, { id: target.id }, token);
      expect(refused.body.errors?.[0]).toMatchObject({
        message: "Not enough permissions",
        extensions: { code: "FORBIDDEN" },
      });
      expect((await accounts.gql(reset, { id: target.id }, adminToken)).body).toEqual({ data: { resetUserMfa: true } });
      const unknown = await accounts.gql(reset, { id: "00000000-0000-4000-8000-000000000000" }, adminToken);
      expect(unknown.body.errors?.[0]).toMatchObject({ message: "Unknown user", extensions: { code: "BAD_USER_INPUT" } });

      // The next login asks for no code.
      const after = await login(target.username, target.password);
      expect(after.body.data?.login.accessToken).toEqual(expect.any(String));
      expect(await typesOf(target.id)).toEqual(["login.succeeded", "login.succeeded", "mfa.disabled", "mfa.enabled"]);
    });
  });

  it("no event holds a password, token or code this suite used", async () => {
    const rows = await accounts.server.app.database.db.selectFrom("auth_events").selectAll().execute();
    const text = JSON.stringify(rows);
    expect(secrets.length).toBeGreaterThan(20);
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
