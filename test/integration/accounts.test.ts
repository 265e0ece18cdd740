/** Accounts end to end (CONTRACT section 10): register, verify, reset, through a real SMTP server and the outbox. */
import { randomBytes } from "node:crypto";
import { type ParsedMail } from "mailparser";
import {
  capturingLogger,
  DIALECTS,
  movableClock,
  startTestServer,
  uniqueName,
  type GraphQLResponse,
  type MovableClock,
  type TestServer,
} from "../harness";
import { startSmtpSink, waitFor, type SmtpSink } from "../smtp-sink";
import { expectIncorrectCredentials, expectInvalidToken, loginPair, postToken, refreshMutation } from "../support";

const FAST_MAIL = {
  pollIntervalMs: 20,
  retry: { initialDelayMs: 1_000, maxDelayMs: 60_000 },
  retryForMs: 60 * 60_000,
  shutdownGraceMs: 300,
};
const APP_URL = "https://app.example.com/accounts";
const MINUTE = 60_000;

const REGISTER = `mutation($username: String!, $email: String!, $password: String!, $fullName: String) {
  register(username: $username, email: $email, password: $password, fullName: $fullName) {
    id username email fullName emailVerified scopes
  }
}`;
const VERIFY = "mutation($token: String!) { verifyEmail(token: $token) }";
const REQUEST_RESET = "mutation($email: String!) { requestPasswordReset(email: $email) }";
const RESET =
  "mutation($token: String!, $newPassword: String!) { resetPassword(token: $token, newPassword: $newPassword) }";

/** One error, exactly this code and message (and these extensions), and no data. */
function expectError(
  response: GraphQLResponse,
  code: string,
  message: string,
  extensions: Record<string, unknown> = {},
): void {
  expect(response.status).toBe(200);
  expect(response.body.data ?? null).toBeNull();
  expect(response.body.errors).toEqual([expect.objectContaining({ message, extensions: { code, ...extensions } })]);
}

describe.each(DIALECTS)("accounts (%s)", (dialect) => {
  let sink: SmtpSink;
  let server: TestServer;
  let clock: MovableClock;
  let logs: () => string;

  beforeAll(async () => {
    sink = await startSmtpSink();
    clock = movableClock();
    const captured = capturingLogger();
    logs = captured.lines;
    server = await startTestServer({
      dialect,
      clock,
      logger: captured.logger,
      env: { SMTP_URL: sink.url, REGISTRATION: "open", APP_URL: `${APP_URL}/`, TRUST_PROXY: "1" },
      mail: FAST_MAIL,
    });
  });
  afterAll(async () => {
    await server?.close();
    await sink?.close();
  });

  /** A client address of its own, so each test has its own per-address budgets. */
  const newAddress = () => `203.0.113.${1 + (randomBytes(1)[0]! % 250)}`;
  let address = newAddress();
  beforeEach(() => {
    address = `198.51.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;
  });
  const gql = (query: string, variables: Record<string, unknown>, token?: string) =>
    server.gql(query, variables, { token, headers: { "x-forwarded-for": address } });

  const mailsTo = (to: string) => sink.received.filter((r) => r.envelopeTo.includes(to)).map((r) => r.mail);
  async function nextMailTo(to: string, count = 1): Promise<ParsedMail[]> {
    await waitFor(() => mailsTo(to).length >= count, `${count} mail(s) to ${to}`);
    return mailsTo(to);
  }
  const queuedFor = async (to: string) =>
    Number(
      (
        await server.app.database.db
          .selectFrom("mail_outbox")
          .select((eb) => eb.fn.countAll<number | string>().as("n"))
          .where("recipient", "=", to)
          .executeTakeFirstOrThrow()
      ).n,
    );
  /** The token from the mail's link; the link is APP_URL's, the token in its fragment. */
  function tokenIn(mail: ParsedMail, page: "verify-email" | "reset-password"): string {
    const match = new RegExp(`${APP_URL.replace(/[./]/g, "\\$&")}/${page}#token=([A-Za-z0-9_-]{43})(?:\\s|$)`).exec(
      mail.text ?? "",
    );
    expect(match).not.toBeNull();
    return match![1]!;
  }
  async function registerUser(email = `${uniqueName("r")}@example.com`) {
    const username = uniqueName("Reg");
    const password = `pw-${randomBytes(8).toString("hex")}`;
    const response = await gql(REGISTER, { username, email, password, fullName: "Reg Istered" });
    expect(response.body.errors).toBeUndefined();
    return { username, email, password, user: response.body.data.register };
  }
  async function addUser(email: string, options: { disabled?: boolean } = {}) {
    const username = uniqueName("Known");
    const password = `pw-${randomBytes(8).toString("hex")}`;
    const user = await server.app.users.createUser({
      username,
      email,
      passwordHash: await server.app.passwords.hash(password),
      scopes: ["me", "items"],
      disabled: options.disabled,
    });
    return { username, password, id: user.id };
  }

  it("register → verification mail → verifyEmail → emailVerified true; the link is spent once", async () => {
    const { username, email, password, user } = await registerUser();
    expect(user).toEqual({
      id: expect.any(String),
      username,
      email,
      fullName: "Reg Istered",
      emailVerified: false,
      scopes: ["me", "items"],
    });

    const [mail] = await nextMailTo(email);
    expect(mail!.subject).toBe("Verify your email address");
    const token = tokenIn(mail!, "verify-email");
    // Only the digest is stored.
    const stored = await server.app.database.db
      .selectFrom("account_tokens")
      .selectAll()
      .where("user_id", "=", user.id)
      .execute();
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(token);

    expect((await gql(VERIFY, { token })).body).toEqual({ data: { verifyEmail: true } });
    const access = await server.login(username, password);
    expect((await gql("{ me { emailVerified } }", {}, access)).body).toEqual({ data: { me: { emailVerified: true } } });
    expectError(await gql(VERIFY, { token }), "BAD_USER_INPUT", "Invalid or expired token");
  });

  it("register refuses a taken username (any case), a bad username or email, a common password", async () => {
    const { username } = await registerUser();
    const fresh = () => ({
      username: uniqueName("New"),
      email: `${uniqueName("n")}@example.com`,
      password: "a-fine-long-passphrase",
    });
    expectError(
      await gql(REGISTER, { ...fresh(), username: username.toUpperCase() }),
      "BAD_USER_INPUT",
      "Username is taken",
    );
    expectError(await gql(REGISTER, { ...fresh(), username: "bad name" }), "BAD_USER_INPUT", "Invalid username");
    expectError(await gql(REGISTER, { ...fresh(), email: "not-an-address" }), "BAD_USER_INPUT", "Invalid email");
    expectError(await gql(REGISTER, { ...fresh(), password: "PassWord" }), "BAD_USER_INPUT", "Password is too common");
    expectError(
      await gql(REGISTER, { ...fresh(), password: "short" }),
      "BAD_USER_INPUT",
      "Password must be at least 8 characters",
    );
  });

  it("reset, known address: mail → resetPassword → old password refused, new one works, old tokens dead", async () => {
    const email = `${uniqueName("k")}@example.com`;
    const known = await addUser(email);
    const before = await loginPair(server, known.username, known.password);
    // Failed logins on the username, cleared by the reset.
    for (let i = 0; i < 4; i++)
      await gql('mutation($u: String!) { login(username: $u, password: "wrong-password") { accessToken } }', {
        u: known.username,
      });

    expect((await gql(REQUEST_RESET, { email: email.toUpperCase() })).body).toEqual({
      data: { requestPasswordReset: true },
    });
    const [mail] = await nextMailTo(email);
    expect(mail!.subject).toBe("Reset your password");
    const token = tokenIn(mail!, "reset-password");

    // The blocklist holds on this door too, and a refused password leaves the link usable.
    expectError(await gql(RESET, { token, newPassword: "PASSWORD123" }), "BAD_USER_INPUT", "Password is too common");
    const newPassword = `new-${randomBytes(8).toString("hex")}`;
    expect((await gql(RESET, { token, newPassword })).body).toEqual({ data: { resetPassword: true } });

    expectIncorrectCredentials(
      await gql("mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }", {
        u: known.username,
        p: known.password,
      }),
    );
    const after = await loginPair(server, known.username, newPassword);
    expect((await server.gql("{ me { id } }", {}, { token: after.accessToken })).body).toEqual({
      data: { me: { id: known.id } },
    });
    expectInvalidToken(await server.gql("{ me { id } }", {}, { token: before.accessToken }));
    expectError(await refreshMutation(server, before.refreshToken), "UNAUTHENTICATED", "Invalid refresh token");
    expectError(
      await gql(RESET, { token, newPassword: `again-${newPassword}` }),
      "BAD_USER_INPUT",
      "Invalid or expired token",
    );
  });

  it("a reset marks the address verified", async () => {
    const { email, user } = await registerUser();
    await nextMailTo(email);
    await gql(REQUEST_RESET, { email });
    const mails = await nextMailTo(email, 2);
    const token = tokenIn(
      mails.find((m) => m.subject === "Reset your password")!,
      "reset-password",
    );
    expect((await gql(RESET, { token, newPassword: `new-${randomBytes(8).toString("hex")}` })).body).toEqual({
      data: { resetPassword: true },
    });
    expect((await server.app.users.findUserById(user.id))?.emailVerified).toBe(true);
  });

  it("an unknown or malformed address: the same true, no mail; a disabled account: no mail", async () => {
    const unknown = `${uniqueName("nobody")}@example.com`;
    const disabledEmail = `${uniqueName("off")}@example.com`;
    await addUser(disabledEmail, { disabled: true });
    const knownEmail = `${uniqueName("on")}@example.com`;
    await addUser(knownEmail);
    for (const email of [unknown, disabledEmail, "not an address"]) {
      expect((await gql(REQUEST_RESET, { email })).body).toEqual({ data: { requestPasswordReset: true } });
    }
    // A known address's mail, requested last, arrives: the sender has passed the others by then.
    await gql(REQUEST_RESET, { email: knownEmail });
    await nextMailTo(knownEmail);
    expect(mailsTo(unknown)).toEqual([]);
    expect(mailsTo(disabledEmail)).toEqual([]);
    expect(await queuedFor(unknown)).toBe(0);
    expect(await queuedFor(disabledEmail)).toBe(0);
  });

  it("two accounts on one address (in two cases) get one link each, each for its own account", async () => {
    const email = `${uniqueName("Shared")}@example.com`;
    const first = await addUser(email);
    const second = await addUser(email.toLowerCase());
    await gql(REQUEST_RESET, { email: email.toUpperCase() });
    await waitFor(() => mailsTo(email).length + mailsTo(email.toLowerCase()).length >= 2, "two reset mails");
    const mails = [...mailsTo(email), ...mailsTo(email.toLowerCase())];
    expect(mails).toHaveLength(2);
    for (const account of [first, second]) {
      const mail = mails.find((m) => m.text!.includes(`Hello ${account.username},`))!;
      const newPassword = `new-${randomBytes(8).toString("hex")}`;
      expect((await gql(RESET, { token: tokenIn(mail, "reset-password"), newPassword })).body).toEqual({
        data: { resetPassword: true },
      });
      expect((await loginPair(server, account.username, newPassword)).accessToken).toEqual(expect.any(String));
    }
  });

  it("a second link dies once the first is used; two uses of one link at once let exactly one through", async () => {
    const email = `${uniqueName("twice")}@example.com`;
    const known = await addUser(email);
    await gql(REQUEST_RESET, { email });
    await gql(REQUEST_RESET, { email });
    const [one, two] = (await nextMailTo(email, 2)).map((m) => tokenIn(m, "reset-password"));
    const outcomes = await Promise.all(
      [1, 2].map((i) => gql(RESET, { token: one, newPassword: `racer-${i}-${randomBytes(6).toString("hex")}` })),
    );
    expect(outcomes.map((r) => r.body.data?.resetPassword ?? r.body.errors?.[0]?.message).sort()).toEqual(
      ["Invalid or expired token", true].sort(),
    );
    expectError(
      await gql(RESET, { token: two, newPassword: `late-${randomBytes(6).toString("hex")}` }),
      "BAD_USER_INPUT",
      "Invalid or expired token",
    );
    expect((await server.app.users.findUserById(known.id))?.id).toBe(known.id);
  });

  it("a reset link dies when the password changes by another door (changePassword)", async () => {
    const email = `${uniqueName("chg")}@example.com`;
    const known = await addUser(email);
    await gql(REQUEST_RESET, { email });
    const token = tokenIn((await nextMailTo(email))[0]!, "reset-password");
    const access = await server.login(known.username, known.password);
    const changed = await gql(
      "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }",
      { c: known.password, n: `changed-${randomBytes(6).toString("hex")}` },
      access,
    );
    expect(changed.body.errors).toBeUndefined();
    expectError(
      await gql(RESET, { token, newPassword: `reset-${randomBytes(6).toString("hex")}` }),
      "BAD_USER_INPUT",
      "Invalid or expired token",
    );
  });

  it("tokens expire: a reset link after 30 minutes, a verification link after 24 hours (injected clock)", async () => {
    const { email } = await registerUser();
    const verifyToken = tokenIn((await nextMailTo(email))[0]!, "verify-email");
    await gql(REQUEST_RESET, { email });
    const resetToken = tokenIn(
      (await nextMailTo(email, 2)).find((m) => m.subject === "Reset your password")!,
      "reset-password",
    );
    clock.advance(30 * MINUTE + 1_000);
    expectError(
      await gql(RESET, { token: resetToken, newPassword: `late-${randomBytes(6).toString("hex")}` }),
      "BAD_USER_INPUT",
      "Invalid or expired token",
    );
    clock.advance(24 * 60 * MINUTE - 30 * MINUTE);
    expectError(await gql(VERIFY, { token: verifyToken }), "BAD_USER_INPUT", "Invalid or expired token");
  });

  it("garbage tokens are refused the same way", async () => {
    for (const token of ["", "x", "A".repeat(43), "A".repeat(10_000), "' OR 1=1--"]) {
      expectError(await gql(VERIFY, { token }), "BAD_USER_INPUT", "Invalid or expired token");
      expectError(
        await gql(RESET, { token, newPassword: "a-fine-long-passphrase" }),
        "BAD_USER_INPUT",
        "Invalid or expired token",
      );
    }
  });

  it("limits per address per 15 minutes: 10 register, 5 requestPasswordReset, 5 requestEmailVerification", async () => {
    const expectLimited = (response: GraphQLResponse) => {
      const retryAfter = response.body.errors?.[0]?.extensions?.retryAfter as number;
      expect(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 900).toBe(true);
      expectError(response, "RATE_LIMITED", `Too many requests; retry in ${retryAfter} seconds`, { retryAfter });
    };
    const registered = [];
    for (let i = 0; i < 10; i++) registered.push(await registerUser());
    expectLimited(
      await gql(REGISTER, {
        username: uniqueName("Over"),
        email: "over@example.com",
        password: "a-fine-long-passphrase",
      }),
    );

    for (let i = 0; i < 5; i++)
      expect((await gql(REQUEST_RESET, { email: "x@example.com" })).body.errors).toBeUndefined();
    expectLimited(await gql(REQUEST_RESET, { email: "x@example.com" }));

    const access = await server.login(registered[0]!.username, registered[0]!.password);
    const REQUEST_VERIFICATION = "mutation { requestEmailVerification }";
    for (let i = 0; i < 5; i++)
      expect((await gql(REQUEST_VERIFICATION, {}, access)).body).toEqual({ data: { requestEmailVerification: true } });
    expectLimited(await gql(REQUEST_VERIFICATION, {}, access));
    // The register limit is the address's: another address registers.
    address = newAddress();
    await registerUser();
  });

  it("limits per email address: the mails of at most 3 reset requests an hour, then true and nothing", async () => {
    const email = `${uniqueName("often")}@example.com`;
    await addUser(email);
    for (let i = 0; i < 5; i++) {
      address = newAddress();
      expect((await gql(REQUEST_RESET, { email })).body).toEqual({ data: { requestPasswordReset: true } });
    }
    await nextMailTo(email, 3);
    expect(await queuedFor(email)).toBe(3);
    clock.advance(61 * MINUTE);
    await gql(REQUEST_RESET, { email });
    await nextMailTo(email, 4);
  });

  it("requestEmailVerification mails a new link to the viewer's unverified address; needs a token", async () => {
    const { username, email, password } = await registerUser();
    await nextMailTo(email);
    const access = await server.login(username, password);
    expect((await gql("mutation { requestEmailVerification }", {}, access)).body).toEqual({
      data: { requestEmailVerification: true },
    });
    const mails = await nextMailTo(email, 2);
    expect(mails.map((m) => m.subject)).toEqual(["Verify your email address", "Verify your email address"]);
    expect((await gql(VERIFY, { token: tokenIn(mails[1]!, "verify-email") })).body).toEqual({
      data: { verifyEmail: true },
    });
    expectError(await gql("mutation { requestEmailVerification }", {}), "UNAUTHENTICATED", "Not authenticated");
  });

  it("no token, link or password reaches the logs, and a delivered mail's body leaves the outbox", async () => {
    const { email, password } = await registerUser();
    await nextMailTo(email);
    await waitFor(async () => {
      const rows = await server.app.database.db
        .selectFrom("mail_outbox")
        .select(["text_body", "status"])
        .where("recipient", "=", email)
        .execute();
      return rows.length === 1 && rows[0]!.status === "sent" && rows[0]!.text_body === null;
    }, "the body deleted");
    const logged = logs();
    expect(logged).toContain("account registered; verification mail queued");
    expect(logged).not.toContain(password);
    const tokens = sink.received.flatMap((r) =>
      [...(r.mail.text ?? "").matchAll(/#token=([A-Za-z0-9_-]{43})/g)].map((m) => m[1]!),
    );
    expect(tokens.length).toBeGreaterThan(10);
    for (const token of tokens) expect(logged).not.toContain(token);
    expect(logged).not.toContain("#token=");
  });
});

describe.each(DIALECTS)("REQUIRE_EMAIL_VERIFICATION and REGISTRATION (%s)", (dialect) => {
  let sink: SmtpSink;
  let server: TestServer;
  beforeAll(async () => {
    sink = await startSmtpSink();
    server = await startTestServer({
      dialect,
      env: { SMTP_URL: sink.url, REGISTRATION: "open", REQUIRE_EMAIL_VERIFICATION: "true" },
      mail: FAST_MAIL,
    });
  });
  afterAll(async () => {
    await server?.close();
    await sink?.close();
  });

  it("refuses an unverified login after a correct password on both doors, then lets it in once verified", async () => {
    const username = uniqueName("Unv");
    const email = `${username}@example.com`;
    const password = `pw-${randomBytes(8).toString("hex")}`;
    expect((await server.gql(REGISTER, { username, email, password })).body.errors).toBeUndefined();
    const LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";

    expectIncorrectCredentials(await server.gql(LOGIN, { u: username, p: "a-wrong-password" }));
    expectError(await server.gql(LOGIN, { u: username, p: password }), "FORBIDDEN", "Email not verified");
    const form = (p: string) => new URLSearchParams({ grant_type: "password", username, password: p }).toString();
    expect(await postToken(server, form("a-wrong-password"))).toMatchObject({
      status: 400,
      body: { error: "invalid_grant", error_description: "Incorrect username or password" },
    });
    expect(await postToken(server, form(password))).toMatchObject({
      status: 400,
      body: { error: "invalid_grant", error_description: "Email not verified" },
    });

    await waitFor(() => sink.received.some((r) => r.envelopeTo.includes(email)), "the verification mail");
    const mail = sink.received.find((r) => r.envelopeTo.includes(email))!.mail;
    const token = /\/verify-email#token=([A-Za-z0-9_-]{43})/.exec(mail.text ?? "")![1]!;
    expect((await server.gql(VERIFY, { token })).body).toEqual({ data: { verifyEmail: true } });
    expect((await server.gql(LOGIN, { u: username, p: password })).body.data.login.accessToken).toEqual(
      expect.any(String),
    );
    expect((await postToken(server, form(password))).status).toBe(200);
  });

  it("does not hold accounts an operator added (verified unless stated) to it", async () => {
    const made = await server.createUser();
    expect((await loginPair(server, made.username, made.password)).accessToken).toEqual(expect.any(String));
  });
});
