/** Two-factor authentication over HTTP (CONTRACT section 11): enrolment, both doors, single use, limits, amr. */
import jwt from "jsonwebtoken";
import { Secret, TOTP } from "otpauth";
import { capturingLogger, DIALECTS, startTestServer, TEST_SECRET, type TestServer, type TestUser } from "../harness";
import { expectRateLimited, movableClock, postToken, TEST_AUDIENCE, TEST_ISSUER, type Pair } from "../support";

const PAIR = "accessToken refreshToken expiresIn scope tokenType";
const LOGIN = `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { ${PAIR} } }`;
const VERIFY = `mutation($t: String!, $c: String!) { verifyMfa(mfaToken: $t, code: $c) { ${PAIR} } }`;
const ENROLL = "mutation { enrollTotp { secret otpauthUri qrCodeSvg } }";
const CONFIRM = "mutation($c: String!) { confirmTotp(code: $c) }";
const DISABLE = "mutation($p: String!) { disableTotp(password: $p) }";
const REGENERATE = "mutation($p: String!) { regenerateRecoveryCodes(password: $p) }";
const INVALID_CODE = { message: "Invalid code", extensions: { code: "UNAUTHENTICATED" } };
const DEAD_TOKEN = { message: "Invalid or expired MFA token", extensions: { code: "UNAUTHENTICATED" } };
const STEP_MS = 30_000;

/** The code an authenticator app shows at `atMs`, made by otpauth itself. */
function totpAt(secret: string, atMs: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 }).generate({
    timestamp: atMs,
  });
}

/** The access token's claims, verified with jsonwebtoken and the server's key. */
function verified(accessToken: string): jwt.JwtPayload {
  return jwt.verify(accessToken, TEST_SECRET, {
    algorithms: ["HS256"],
    audience: TEST_AUDIENCE,
    issuer: TEST_ISSUER,
  }) as jwt.JwtPayload;
}

interface Enrolled extends TestUser {
  readonly secret: string;
  readonly recoveryCodes: string[];
}

describe.each(DIALECTS)("two-factor authentication (%s)", (dialect) => {
  // On a step boundary plus one second, so "one step ago" and "two steps ago" are exact.
  const clock = movableClock(Math.floor(Date.UTC(2031, 4, 1, 12) / STEP_MS) * STEP_MS + 1000);
  const { logger, lines } = capturingLogger();
  let server: TestServer;
  const shown: string[] = [];
  beforeAll(async () => {
    server = await startTestServer({ dialect, clock, logger });
  });
  afterAll(async () => server?.close());

  async function passwordLogin(username: string, password: string) {
    return server.gql<{ login: Pair }>(LOGIN, { u: username, p: password });
  }

  /** Logs in with the password and returns the mfaToken of the MFA_REQUIRED answer. */
  async function mfaTokenFor(user: TestUser): Promise<string> {
    const response = await passwordLogin(user.username, user.password);
    expect(response.body.data ?? null).toBeNull();
    expect(response.body.errors).toEqual([
      expect.objectContaining({
        message: "Two-factor code required",
        extensions: { code: "MFA_REQUIRED", mfaToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) },
      }),
    ]);
    const token = response.body.errors![0]!.extensions!.mfaToken as string;
    shown.push(token);
    return token;
  }

  function verifyMfa(mfaToken: string, code: string) {
    return server.gql<{ verifyMfa: Pair }>(VERIFY, { t: mfaToken, c: code });
  }

  /** A new user with TOTP on; the clock then moves two steps on, so the step before "now" is unused. */
  async function enrolled(): Promise<Enrolled> {
    const user = await server.createUser();
    const login = await passwordLogin(user.username, user.password);
    const token = login.body.data!.login.accessToken;
    const enrolment = await server.gql(ENROLL, {}, { token });
    const secret = enrolment.body.data.enrollTotp.secret as string;
    const confirmed = await server.gql(CONFIRM, { c: totpAt(secret, clock.now()) }, { token });
    const recoveryCodes = confirmed.body.data.confirmTotp as string[];
    shown.push(secret, ...recoveryCodes);
    clock.advance(2 * STEP_MS);
    return { ...user, secret, recoveryCodes };
  }

  it("enrols: secret, the otpauth URI, an SVG QR code; off until confirmed; 10 recovery codes once", async () => {
    const user = await server.createUser();
    const { accessToken: token } = (await passwordLogin(user.username, user.password)).body.data!.login;
    const before = await server.gql("{ me { mfaEnabled } }", {}, { token });
    expect(before.body).toEqual({ data: { me: { mfaEnabled: false } } });

    const first = (await server.gql(ENROLL, {}, { token })).body.data.enrollTotp;
    // A second enrolment before confirming replaces the first: only its secret confirms.
    const enrolment = (await server.gql(ENROLL, {}, { token })).body.data.enrollTotp;
    expect(enrolment.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(enrolment.secret).not.toBe(first.secret);
    expect(enrolment.otpauthUri).toBe(
      `otpauth://totp/graphql-auth-server:${user.username}?secret=${enrolment.secret}` +
        "&issuer=graphql-auth-server&algorithm=SHA1&digits=6&period=30",
    );
    expect(enrolment.qrCodeSvg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>.*<\/svg>\s*$/s);
    shown.push(first.secret, enrolment.secret);
    // Still off: the password alone logs in.
    expect((await passwordLogin(user.username, user.password)).body.data?.login.accessToken).toEqual(expect.any(String));

    const stale = await server.gql(CONFIRM, { c: totpAt(first.secret, clock.now()) }, { token });
    expect(stale.body.errors).toEqual([expect.objectContaining({ message: "Invalid code", extensions: { code: "BAD_USER_INPUT" } })]);
    const codes = (await server.gql(CONFIRM, { c: totpAt(enrolment.secret, clock.now()) }, { token })).body.data.confirmTotp;
    shown.push(...codes);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-z]{5}-[0-9a-z]{5}$/);
    expect((await server.gql("{ me { mfaEnabled } }", {}, { token })).body).toEqual({
      data: { me: { mfaEnabled: true } },
    });

    const again = await server.gql(ENROLL, {}, { token });
    expect(again.body.errors).toEqual([
      expect.objectContaining({
        message: "Two-factor authentication is already enabled",
        extensions: { code: "BAD_USER_INPUT" },
      }),
    ]);
    // At rest: neither the secret nor a recovery code is in the database as such.
    const totp = await server.app.database.db.selectFrom("mfa_totp").selectAll().where("user_id", "=", user.id).execute();
    const recovery = await server.app.database.db.selectFrom("mfa_recovery_codes").selectAll().where("user_id", "=", user.id).execute();
    const stored = JSON.stringify([totp, recovery]);
    expect(totp).toHaveLength(1);
    expect(recovery).toHaveLength(10);
    expect(stored).not.toContain(enrolment.secret);
    for (const code of codes) expect(stored).not.toContain(code.replace("-", ""));
    clock.advance(STEP_MS);
  });

  it("logs in with a code: MFA_REQUIRED, then verifyMfa; amr pwd+otp, an mfa session, kept by refresh", async () => {
    const user = await enrolled();
    const mfaToken = await mfaTokenFor(user);
    const response = await verifyMfa(mfaToken, totpAt(user.secret, clock.now()));
    expect(response.headers.get("cache-control")).toBe("no-store");
    const pair = response.body.data!.verifyMfa;
    expect(pair).toMatchObject({ tokenType: "bearer", scope: "me items" });
    expect(verified(pair.accessToken)).toMatchObject({ sub: user.id, amr: ["pwd", "otp"] });
    const sessions = await server.gql("{ mySessions { current mfa } }", {}, { token: pair.accessToken });
    // Newest first: this one, then the password-only session that enrolled.
    expect(sessions.body.data.mySessions).toEqual([
      { current: true, mfa: true },
      { current: false, mfa: false },
    ]);

    const refreshed = await server.gql(`mutation($t: String!) { refresh(refreshToken: $t) { ${PAIR} } }`, {
      t: pair.refreshToken,
    });
    expect(verified(refreshed.body.data.refresh.accessToken)).toMatchObject({ sub: user.id, amr: ["pwd", "otp"] });
    // The token is spent.
    expect((await verifyMfa(mfaToken, totpAt(user.secret, clock.now() + STEP_MS))).body.errors).toEqual([
      expect.objectContaining(DEAD_TOKEN),
    ]);

    // Without two-factor: amr pwd, in the login's token and its refresh.
    const plain = await server.createUser();
    const plainPair = (await passwordLogin(plain.username, plain.password)).body.data!.login;
    expect(verified(plainPair.accessToken)).toMatchObject({ sub: plain.id, amr: ["pwd"] });
    const plainRefreshed = await server.gql(`mutation($t: String!) { refresh(refreshToken: $t) { accessToken } }`, {
      t: plainPair.refreshToken,
    });
    expect(verified(plainRefreshed.body.data.refresh.accessToken)).toMatchObject({ amr: ["pwd"] });
  });

  it("accepts a code once: the same code again is refused, also when two are sent at once", async () => {
    const user = await enrolled();
    const code = totpAt(user.secret, clock.now());
    expect((await verifyMfa(await mfaTokenFor(user), code)).body.data?.verifyMfa.accessToken).toEqual(expect.any(String));
    expect((await verifyMfa(await mfaTokenFor(user), code)).body.errors).toEqual([expect.objectContaining(INVALID_CODE)]);

    clock.advance(STEP_MS);
    const next = totpAt(user.secret, clock.now());
    const tokens = await Promise.all([mfaTokenFor(user), mfaTokenFor(user), mfaTokenFor(user)]);
    const answers = await Promise.all(tokens.map((token) => verifyMfa(token, next)));
    const passed = answers.filter((answer) => answer.body.data?.verifyMfa);
    expect(passed).toHaveLength(1);
    for (const answer of answers.filter((a) => !a.body.data?.verifyMfa)) {
      expect(answer.body.errors).toEqual([expect.objectContaining(INVALID_CODE)]);
    }
    clock.advance(STEP_MS);
  });

  it("takes one step of skew either way, never two", async () => {
    const user = await enrolled();
    const now = clock.now();
    const twoAgo = await verifyMfa(await mfaTokenFor(user), totpAt(user.secret, now - 2 * STEP_MS));
    expect(twoAgo.body.errors).toEqual([expect.objectContaining(INVALID_CODE)]);
    const twoAhead = await verifyMfa(await mfaTokenFor(user), totpAt(user.secret, now + 2 * STEP_MS));
    expect(twoAhead.body.errors).toEqual([expect.objectContaining(INVALID_CODE)]);
    const oneAgo = await verifyMfa(await mfaTokenFor(user), totpAt(user.secret, now - STEP_MS));
    expect(oneAgo.body.data?.verifyMfa.accessToken).toEqual(expect.any(String));
    const oneAhead = await verifyMfa(await mfaTokenFor(user), totpAt(user.secret, now + STEP_MS));
    expect(oneAhead.body.data?.verifyMfa.accessToken).toEqual(expect.any(String));
    // Once a later step is used, the current one (older) is refused too.
    expect((await verifyMfa(await mfaTokenFor(user), totpAt(user.secret, now))).body.errors).toEqual([
      expect.objectContaining(INVALID_CODE),
    ]);
    clock.advance(3 * STEP_MS);
  });

  it("logs in with a recovery code, in any case and without the dash, once", async () => {
    const user = await enrolled();
    const [code] = user.recoveryCodes as [string];
    const first = await verifyMfa(await mfaTokenFor(user), code.replace("-", "").toUpperCase());
    expect(verified(first.body.data!.verifyMfa.accessToken)).toMatchObject({ sub: user.id, amr: ["pwd", "otp"] });
    expect((await verifyMfa(await mfaTokenFor(user), code)).body.errors).toEqual([expect.objectContaining(INVALID_CODE)]);
    expect((await verifyMfa(await mfaTokenFor(user), user.recoveryCodes[1]!)).body.data?.verifyMfa.accessToken).toEqual(expect.any(String));
  });

  it("counts wrong codes toward the username's budget (the password resets nothing); then RATE_LIMITED", async () => {
    const user = await enrolled();
    let mfaToken = await mfaTokenFor(user);
    for (let i = 0; i < 3; i++) expect((await verifyMfa(mfaToken, "000000")).body.errors).toEqual([expect.objectContaining(INVALID_CODE)]);
    // The password again: a new token, but the three failures still count.
    mfaToken = await mfaTokenFor(user);
    expect((await verifyMfa(mfaToken, "zzzzz-zzzzz")).body.errors).toEqual([expect.objectContaining(INVALID_CODE)]);
    expect((await verifyMfa(mfaToken, "12345")).body.errors).toEqual([expect.objectContaining(INVALID_CODE)]);
    // Five failures: even the right code is refused, and so is the right password.
    expectRateLimited(await verifyMfa(mfaToken, totpAt(user.secret, clock.now())));
    expectRateLimited(await passwordLogin(user.username, user.password));
    clock.advance(15 * 60 * 1000);
  });

  it("refuses an mfaToken after 5 minutes, after use, unknown, or with another user's code", async () => {
    const user = await enrolled();
    const other = await enrolled();
    // A second before its 5 minutes are up a token still works; at 5 minutes it is dead.
    const lasting = await mfaTokenFor(user);
    clock.advance(5 * 60 * 1000 - 1000);
    expect((await verifyMfa(lasting, totpAt(user.secret, clock.now()))).body.data?.verifyMfa.accessToken).toEqual(expect.any(String));
    clock.advance(2 * STEP_MS);
    const expiring = await mfaTokenFor(user);
    clock.advance(5 * 60 * 1000);
    expect((await verifyMfa(expiring, totpAt(user.secret, clock.now()))).body.errors).toEqual([expect.objectContaining(DEAD_TOKEN)]);
    expect((await verifyMfa("A".repeat(43), totpAt(user.secret, clock.now()))).body.errors).toEqual([expect.objectContaining(DEAD_TOKEN)]);
    expect((await verifyMfa("not a token", "123456")).body.errors).toEqual([expect.objectContaining(DEAD_TOKEN)]);

    // The token is bound to its user: the other user's current code does not open it.
    const bound = await mfaTokenFor(user);
    expect((await verifyMfa(bound, totpAt(other.secret, clock.now()))).body.errors).toEqual([expect.objectContaining(INVALID_CODE)]);
    expect((await verifyMfa(bound, other.recoveryCodes[0]!)).body.errors).toEqual([expect.objectContaining(INVALID_CODE)]);
    const pair = (await verifyMfa(bound, totpAt(user.secret, clock.now()))).body.data!.verifyMfa;
    expect(verified(pair.accessToken).sub).toBe(user.id);
    expect((await verifyMfa(bound, user.recoveryCodes[0]!)).body.errors).toEqual([expect.objectContaining(DEAD_TOKEN)]);
    clock.advance(STEP_MS);
  });

  it("says nothing of the second factor before the password is right and the account active", async () => {
    const user = await enrolled();
    const wrong = await passwordLogin(user.username, `${user.password}x`);
    expect(wrong.body.errors).toEqual([
      expect.objectContaining({ message: "Incorrect username or password", extensions: { code: "UNAUTHENTICATED" } }),
    ]);
    await server.app.users.setDisabled(user.username, true);
    const disabled = await passwordLogin(user.username, user.password);
    expect(disabled.body.errors).toEqual([expect.objectContaining({ message: "Inactive user", extensions: { code: "FORBIDDEN" } })]);
  });

  it("POST /token: 403 mfa_required, then the mfa-otp grant; a dead token or wrong code: invalid_grant", async () => {
    const user = await enrolled();
    const passwordGrant = () =>
      postToken(server, new URLSearchParams({ grant_type: "password", username: user.username, password: user.password }).toString());
    const otpGrant = (mfaToken: string, otp: string) =>
      postToken(
        server,
        new URLSearchParams({
          grant_type: "http://auth0.com/oauth/grant-type/mfa-otp",
          mfa_token: mfaToken,
          otp,
        }).toString(),
      );

    const step1 = await passwordGrant();
    expect(step1.status).toBe(403);
    expect(step1.headers.get("cache-control")).toBe("no-store");
    expect(step1.body).toEqual({
      error: "mfa_required",
      error_description: "Two-factor code required",
      mfa_token: expect.any(String),
    });
    shown.push(step1.body.mfa_token);

    const wrong = await otpGrant(step1.body.mfa_token, "000000");
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({ error: "invalid_grant", error_description: "Invalid code" });

    const step2 = await otpGrant(step1.body.mfa_token, totpAt(user.secret, clock.now()));
    expect(step2.status).toBe(200);
    expect(step2.body).toEqual({
      access_token: expect.any(String),
      token_type: "bearer",
      expires_in: expect.any(Number),
      refresh_token: expect.any(String),
      scope: "me items",
    });
    expect(verified(step2.body.access_token)).toMatchObject({ sub: user.id, amr: ["pwd", "otp"] });
    const refreshed = await postToken(
      server,
      new URLSearchParams({ grant_type: "refresh_token", refresh_token: step2.body.refresh_token }).toString(),
    );
    expect(verified(refreshed.body.access_token)).toMatchObject({ sub: user.id, amr: ["pwd", "otp"] });

    const spent = await otpGrant(step1.body.mfa_token, user.recoveryCodes[0]!);
    expect(spent.status).toBe(400);
    expect(spent.body).toEqual({ error: "invalid_grant", error_description: "Invalid or expired MFA token" });
    const missing = await postToken(
      server,
      new URLSearchParams({ grant_type: "http://auth0.com/oauth/grant-type/mfa-otp", otp: "1" }).toString(),
    );
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ error: "invalid_request", error_description: "Missing parameter: mfa_token" });
    clock.advance(STEP_MS);
  });

  it.each([
    ["disableTotp", DISABLE],
    ["regenerateRecoveryCodes", REGENERATE],
  ])("%s with a wrong password: Incorrect password, counted as a failed login", async (_name, mutation) => {
    const user = await enrolled();
    const pair = (await verifyMfa(await mfaTokenFor(user), totpAt(user.secret, clock.now()))).body.data!.verifyMfa;
    for (let i = 0; i < 5; i++) {
      const response = await server.gql(mutation, { p: `${user.password}x` }, { token: pair.accessToken });
      expect(response.body.errors).toEqual([
        expect.objectContaining({ message: "Incorrect password", extensions: { code: "UNAUTHENTICATED" } }),
      ]);
    }
    expectRateLimited(await passwordLogin(user.username, user.password));
    expectRateLimited(await server.gql(mutation, { p: user.password }, { token: pair.accessToken }));
    expect((await server.gql("{ me { mfaEnabled } }", {}, { token: pair.accessToken })).body.data.me.mfaEnabled).toBe(true);
    clock.advance(15 * 60 * 1000);
  });

  it("regenerateRecoveryCodes: 10 new codes, the old ones die", async () => {
    const user = await enrolled();
    const pair = (await verifyMfa(await mfaTokenFor(user), user.recoveryCodes[0]!)).body.data!.verifyMfa;
    const fresh = (await server.gql(REGENERATE, { p: user.password }, { token: pair.accessToken })).body.data.regenerateRecoveryCodes;
    shown.push(...fresh);
    expect(fresh).toHaveLength(10);
    expect((await verifyMfa(await mfaTokenFor(user), user.recoveryCodes[1]!)).body.errors).toEqual([expect.objectContaining(INVALID_CODE)]);
    expect((await verifyMfa(await mfaTokenFor(user), fresh[0])).body.data?.verifyMfa.accessToken).toEqual(expect.any(String));
  });

  it("disableTotp with the password turns it off (true), then answers false; the password alone logs in", async () => {
    const user = await enrolled();
    const pair = (await verifyMfa(await mfaTokenFor(user), totpAt(user.secret, clock.now()))).body.data!.verifyMfa;
    expect((await server.gql(DISABLE, { p: user.password }, { token: pair.accessToken })).body).toEqual({
      data: { disableTotp: true },
    });
    expect((await server.gql(DISABLE, { p: user.password }, { token: pair.accessToken })).body).toEqual({
      data: { disableTotp: false },
    });
    const login = await passwordLogin(user.username, user.password);
    expect(verified(login.body.data!.login.accessToken)).toMatchObject({ sub: user.id, amr: ["pwd"] });
    const off = await server.gql(REGENERATE, { p: user.password }, { token: pair.accessToken });
    expect(off.body.errors).toEqual([
      expect.objectContaining({
        message: "Two-factor authentication is not enabled",
        extensions: { code: "BAD_USER_INPUT" },
      }),
    ]);
    clock.advance(STEP_MS);
  });

  it("needs a valid token for the enrolment mutations", async () => {
    for (const [query, variables] of [
      [ENROLL, {}],
      [CONFIRM, { c: "123456" }],
      [DISABLE, { p: "whatever1" }],
      [REGENERATE, { p: "whatever1" }],
    ] as const) {
      const response = await server.gql(query, variables);
      expect(response.body.errors).toEqual([
        expect.objectContaining({ message: "Not authenticated", extensions: { code: "UNAUTHENTICATED" } }),
      ]);
    }
  });

  it("never logs a secret, a recovery code or an mfaToken", () => {
    expect(shown.length).toBeGreaterThan(20);
    const logged = lines();
    for (const value of shown) expect(logged).not.toContain(value);
  });
});
