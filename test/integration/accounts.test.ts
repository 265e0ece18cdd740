/** Sign-up and email verification end to end (CONTRACT section 10), through a real SMTP server and the outbox. */
import { randomBytes } from "node:crypto";
import { DIALECTS, startTestServer, uniqueName, type GraphQLResponse, type TestServer } from "../harness";
import { startSmtpSink, waitFor, type SmtpSink } from "../smtp-sink";
import { expectIncorrectCredentials, loginPair, postToken } from "../support";
import { expectError, FAST_MAIL, newAddress, REGISTER, REQUEST_RESET, useAccountsServer, VERIFY } from "../support/accounts";

describe.each(DIALECTS)("sign-up and verification (%s)", (dialect) => {
  const a = useAccountsServer(dialect);
  const { gql, nextMailTo, tokenIn, registerUser } = a;

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
    const stored = await a.server.app.database.db.selectFrom("account_tokens").selectAll().where("user_id", "=", user.id).execute();
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(token);

    expect((await gql(VERIFY, { token })).body).toEqual({ data: { verifyEmail: true } });
    const access = await a.server.login(username, password);
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
    expectError(await gql(REGISTER, { ...fresh(), username: username.toUpperCase() }), "BAD_USER_INPUT", "Username is taken");
    expectError(await gql(REGISTER, { ...fresh(), username: "bad name" }), "BAD_USER_INPUT", "Invalid username");
    expectError(await gql(REGISTER, { ...fresh(), email: "not-an-address" }), "BAD_USER_INPUT", "Invalid email");
    expectError(await gql(REGISTER, { ...fresh(), password: "PassWord" }), "BAD_USER_INPUT", "Password is too common");
    expectError(await gql(REGISTER, { ...fresh(), password: "short" }), "BAD_USER_INPUT", "Password must be at least 8 characters");
  });

  it("requestEmailVerification mails a new link to the viewer's unverified address; needs a token", async () => {
    const { username, email, password } = await registerUser();
    await nextMailTo(email);
    const access = await a.server.login(username, password);
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

    for (let i = 0; i < 5; i++) expect((await gql(REQUEST_RESET, { email: "x@example.com" })).body.errors).toBeUndefined();
    expectLimited(await gql(REQUEST_RESET, { email: "x@example.com" }));

    const access = await a.server.login(registered[0]!.username, registered[0]!.password);
    const REQUEST_VERIFICATION = "mutation { requestEmailVerification }";
    for (let i = 0; i < 5; i++)
      expect((await gql(REQUEST_VERIFICATION, {}, access)).body).toEqual({ data: { requestEmailVerification: true } });
    expectLimited(await gql(REQUEST_VERIFICATION, {}, access));
    // The register limit is the address's: another address registers.
    a.address = newAddress();
    await registerUser();
  });

  it("no token, link or password reaches the logs, and a delivered mail's body leaves the outbox", async () => {
    const { email, password } = await registerUser();
    await nextMailTo(email);
    await waitFor(async () => {
      const rows = await a.server.app.database.db
        .selectFrom("mail_outbox")
        .select(["text_body", "status"])
        .where("recipient", "=", email)
        .execute();
      return rows.length === 1 && rows[0]!.status === "sent" && rows[0]!.text_body === null;
    }, "the body deleted");
    const logged = a.logs();
    expect(logged).toContain("account registered; verification mail queued");
    expect(logged).not.toContain(password);
    const tokens = a.sink.received.flatMap((r) => [...(r.mail.text ?? "").matchAll(/#token=([A-Za-z0-9_-]{43})/g)].map((m) => m[1]!));
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
    expect((await server.gql(LOGIN, { u: username, p: password })).body.data.login.accessToken).toEqual(expect.any(String));
    expect((await postToken(server, form(password))).status).toBe(200);
  });

  it("does not hold accounts an operator added (verified unless stated) to it", async () => {
    const made = await server.createUser();
    expect((await loginPair(server, made.username, made.password)).accessToken).toEqual(expect.any(String));
  });
});

describe.each(DIALECTS)("account limits across two instances on one database (%s)", (dialect) => {
  let sink: SmtpSink;
  let first: TestServer;
  let second: TestServer;
  beforeAll(async () => {
    sink = await startSmtpSink();
    const env = { SMTP_URL: sink.url, REGISTRATION: "open", TRUST_PROXY: "1" };
    first = await startTestServer({ dialect, env, mail: FAST_MAIL });
    second = await startTestServer({ databaseUrl: first.database.url, env, mail: FAST_MAIL });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await sink?.close();
  });

  it("counts one client address's register calls and one email address's reset mails on both together", async () => {
    const headers = { "x-forwarded-for": `192.0.2.${1 + (randomBytes(1)[0]! % 250)}` };
    const register = (server: TestServer) =>
      server.gql(
        REGISTER,
        { username: uniqueName("Two"), email: `${uniqueName("t")}@example.com`, password: "a-fine-long-passphrase" },
        { headers },
      );
    for (let i = 0; i < 10; i++) expect((await register(i % 2 === 0 ? first : second)).body.errors).toBeUndefined();
    for (const server of [first, second]) {
      expect((await register(server)).body.errors).toEqual([
        expect.objectContaining({ extensions: { code: "RATE_LIMITED", retryAfter: expect.any(Number) } }),
      ]);
    }

    const email = `${uniqueName("both")}@example.com`;
    await first.app.users.createUser({ username: uniqueName("Both"), email, passwordHash: "!", scopes: ["me"] });
    for (let i = 0; i < 4; i++) {
      const server = i % 2 === 0 ? first : second;
      const response = await server.gql(REQUEST_RESET, { email }, { headers: { "x-forwarded-for": `192.0.2.${10 + i}` } });
      expect(response.body).toEqual({ data: { requestPasswordReset: true } });
    }
    await waitFor(() => sink.received.filter((r) => r.envelopeTo.includes(email)).length >= 3, "three reset mails");
    const queued = await first.app.database.db.selectFrom("mail_outbox").select("id").where("recipient", "=", email).execute();
    expect(queued).toHaveLength(3);
  });
});
