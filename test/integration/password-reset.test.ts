/** Password reset end to end (CONTRACT section 10): which accounts it mails, what it ends, how its links die. */
import { randomBytes } from "node:crypto";
import { DIALECTS, uniqueName } from "../harness";
import { waitFor } from "../smtp-sink";
import { expectIncorrectCredentials, expectInvalidToken, expectRateLimited, loginPair, refreshMutation } from "../support";
import { expectError, MINUTE, newAddress, REQUEST_RESET, RESET, useAccountsServer, VERIFY } from "../support/accounts";

describe.each(DIALECTS)("password reset (%s)", (dialect) => {
  const a = useAccountsServer(dialect);
  const { gql, mailsTo, nextMailTo, queuedFor, tokenIn, registerUser, addUser } = a;

  it("reset, known address: mail → resetPassword → old password refused, new one works, old tokens dead", async () => {
    const email = `${uniqueName("k")}@example.com`;
    const known = await addUser(email);
    const before = await loginPair(a.server, known.username, known.password);
    // The username's failed-login budget (LOGIN_MAX_FAILURES, 5) spent: even the right password is
    // refused now. The reset clears it.
    const LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";
    for (let i = 0; i < 5; i++) await gql(LOGIN, { u: known.username, p: "wrong-password" });
    expectRateLimited(await gql(LOGIN, { u: known.username, p: known.password }));

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
    const after = await loginPair(a.server, known.username, newPassword);
    expect((await a.server.gql("{ me { id } }", {}, { token: after.accessToken })).body).toEqual({
      data: { me: { id: known.id } },
    });
    expectInvalidToken(await a.server.gql("{ me { id } }", {}, { token: before.accessToken }));
    expectError(await refreshMutation(a.server, before.refreshToken), "UNAUTHENTICATED", "Invalid refresh token");
    expectError(await gql(RESET, { token, newPassword: `again-${newPassword}` }), "BAD_USER_INPUT", "Invalid or expired token");
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
    expect((await a.server.app.users.findUserById(user.id))?.emailVerified).toBe(true);
  });

  it("an unknown or malformed address: the same true, no mail; a disabled account: no mail", async () => {
    const unknown = `${uniqueName("nobody")}@example.com`;
    const disabledEmail = `${uniqueName("off")}@example.com`;
    await addUser(disabledEmail, { disabled: true });
    const knownEmail = `${uniqueName("on")}@example.com`;
    await addUser(knownEmail);
    // Every answer waits out the same floor (150 ms), known address or not: its time tells nothing.
    for (const email of [unknown, disabledEmail, "not an address", knownEmail]) {
      const started = performance.now();
      expect((await gql(REQUEST_RESET, { email })).body).toEqual({ data: { requestPasswordReset: true } });
      expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    }
    // The known address's mail, requested last, arrives: the sender has passed the others by then.
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
      expect((await loginPair(a.server, account.username, newPassword)).accessToken).toEqual(expect.any(String));
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
    expect((await a.server.app.users.findUserById(known.id))?.id).toBe(known.id);
  });

  it("a reset link dies when the password changes by another door (changePassword)", async () => {
    const email = `${uniqueName("chg")}@example.com`;
    const known = await addUser(email);
    await gql(REQUEST_RESET, { email });
    const token = tokenIn((await nextMailTo(email))[0]!, "reset-password");
    const access = await a.server.login(known.username, known.password);
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

  it("limits per email address: the mails of at most 3 reset requests an hour, then true and nothing", async () => {
    const email = `${uniqueName("often")}@example.com`;
    await addUser(email);
    for (let i = 0; i < 5; i++) {
      a.address = newAddress();
      expect((await gql(REQUEST_RESET, { email })).body).toEqual({ data: { requestPasswordReset: true } });
    }
    await nextMailTo(email, 3);
    expect(await queuedFor(email)).toBe(3);
    a.clock.advance(61 * MINUTE);
    await gql(REQUEST_RESET, { email });
    await nextMailTo(email, 4);
  });

  it("tokens expire: a reset link after 30 minutes, a verification link after 24 hours (injected clock)", async () => {
    const { email } = await registerUser();
    const verifyToken = tokenIn((await nextMailTo(email))[0]!, "verify-email");
    await gql(REQUEST_RESET, { email });
    const resetToken = tokenIn(
      (await nextMailTo(email, 2)).find((m) => m.subject === "Reset your password")!,
      "reset-password",
    );
    a.clock.advance(30 * MINUTE + 1_000);
    expectError(
      await gql(RESET, { token: resetToken, newPassword: `late-${randomBytes(6).toString("hex")}` }),
      "BAD_USER_INPUT",
      "Invalid or expired token",
    );
    a.clock.advance(24 * 60 * MINUTE - 30 * MINUTE);
    expectError(await gql(VERIFY, { token: verifyToken }), "BAD_USER_INPUT", "Invalid or expired token");
  });

  it("garbage tokens are refused the same way", async () => {
    for (const token of ["", "x", "A".repeat(43), "A".repeat(10_000), "' OR 1=1--"]) {
      expectError(await gql(VERIFY, { token }), "BAD_USER_INPUT", "Invalid or expired token");
      expectError(await gql(RESET, { token, newPassword: "a-fine-long-passphrase" }), "BAD_USER_INPUT", "Invalid or expired token");
    }
  });
});
