/** AccountsResolver without HTTP: the closed door and mail not configured, by the methods and through Apollo. */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { AccountsResolver } from "../../src/accounts/accounts.resolver";
import { contextForViewer } from "../../src/auth/context";
import { createTestApp, TEST_SECRET, uniqueName, type TestApp } from "../harness";

const REGISTER = "mutation($u: String!, $e: String!, $p: String!) { register(username: $u, email: $e, password: $p) { id } }";

describe("AccountsResolver, REGISTRATION unset (closed)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it("level 1: register() refuses with RegistrationClosed and creates nothing", async () => {
    const resolver = new AccountsResolver(t.app.accounts);
    const username = uniqueName("Closed");
    await expect(
      resolver.register({ username, email: "c@example.com", password: "a-fine-long-passphrase" }, contextForViewer(undefined)),
    ).rejects.toMatchObject({ code: "FORBIDDEN", message: "Registration is closed" });
    expect(await t.app.users.findUserByUsername(username)).toBeUndefined();
  });

  it('level 2: FORBIDDEN "Registration is closed"', async () => {
    const { data, errors } = await t.execute(REGISTER, {
      u: uniqueName("Closed"),
      e: "c@example.com",
      p: "a-fine-long-passphrase",
    });
    expect(data).toBeNull();
    expect(errors).toEqual([expect.objectContaining({ message: "Registration is closed", extensions: { code: "FORBIDDEN" } })]);
  });

  it("level 1: verifyEmail() and resetPassword() refuse an unknown token", async () => {
    const resolver = new AccountsResolver(t.app.accounts);
    const token = "A".repeat(43);
    await expect(resolver.verifyEmail({ token })).rejects.toMatchObject({
      code: "BAD_USER_INPUT",
      message: "Invalid or expired token",
    });
    await expect(resolver.resetPassword({ token, newPassword: "a-fine-long-passphrase" })).rejects.toMatchObject({
      code: "BAD_USER_INPUT",
      message: "Invalid or expired token",
    });
  });
});

describe("AccountsResolver, REGISTRATION=open (test: mail as .eml files)", () => {
  let t: TestApp;
  let resolver: AccountsResolver;
  beforeAll(async () => {
    t = await createTestApp({ env: { REGISTRATION: "open", DEFAULT_SCOPES: "me" } });
    resolver = new AccountsResolver(t.app.accounts);
  });
  afterAll(async () => t?.close());

  const outbox = (to: string) => t.app.database.db.selectFrom("mail_outbox").select(["subject"]).where("recipient", "=", to).execute();

  it("level 1: register() makes an unverified account with DEFAULT_SCOPES, one verification mail queued", async () => {
    const username = uniqueName("Open");
    const email = `${username}@example.com`;
    const user = await resolver.register(
      { username, email, password: "a-fine-long-passphrase", fullName: "Open Door" },
      contextForViewer(undefined, { clientAddress: "192.0.2.7" }),
    );
    expect(user).toEqual({
      id: expect.any(String),
      username,
      email,
      fullName: "Open Door",
      disabled: false,
      scopes: ["me"],
      emailVerified: false,
    });
    expect(await outbox(email)).toEqual([{ subject: "Verify your email address" }]);
  });

  it("level 1: requestEmailVerification() queues a link for an unverified address, none once verified", async () => {
    const made = await t.createUser();
    const email = made.user.email!;
    const viewer = (emailVerified: boolean) =>
      contextForViewer({ user: { ...made.user, emailVerified }, scopes: ["me"], tokenId: "t", issuedAt: 0 });
    expect(await resolver.requestEmailVerification(viewer(true))).toBe(true);
    expect(await outbox(email)).toEqual([]);
    expect(await resolver.requestEmailVerification(viewer(false))).toBe(true);
    expect(await outbox(email)).toEqual([{ subject: "Verify your email address" }]);
  });
});

describe("AccountsResolver in production without SMTP_URL", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { NODE_ENV: "production" } });
  });
  afterAll(async () => t?.close());

  it('answers the mailing mutations FORBIDDEN "Email is not configured" and queues nothing', async () => {
    const user = await t.createUser();
    const token = await t.tokenFor(user.id);
    const reset = await t.execute("mutation($e: String!) { requestPasswordReset(email: $e) }", { e: user.user.email });
    expect(reset.errors).toEqual([expect.objectContaining({ message: "Email is not configured", extensions: { code: "FORBIDDEN" } })]);
    const verification = await t.execute("mutation { requestEmailVerification }", {}, { token });
    expect(verification.errors).toEqual([
      expect.objectContaining({ message: "Email is not configured", extensions: { code: "FORBIDDEN" } }),
    ]);
    const queued = await t.app.database.db.selectFrom("mail_outbox").selectAll().execute();
    expect(queued).toEqual([]);
  });
});

describe("REGISTRATION=open in production without SMTP_URL", () => {
  it("stops start-up with one line naming the key and exit code 1", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "graphql-auth-registration-"));
    const child = spawn(process.execPath, [resolve(__dirname, "..", "..", "dist", "main.js")], {
      cwd,
      env: {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "production",
        SECRET_KEY: TEST_SECRET,
        PORT: "0",
        DATABASE_URL: `sqlite:${join(cwd, "db.sqlite")}`,
        REGISTRATION: "open",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    // A server that starts instead of refusing is killed, so the test fails rather than hangs.
    const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const code = await new Promise<number | null>((exited) => child.on("exit", (status) => exited(status)));
    clearTimeout(kill);
    expect(code).toBe(1);
    expect(stderr).toBe(
      "Invalid configuration: REGISTRATION cannot be open in production without SMTP_URL" + " (no verification mail could be sent)\n",
    );
  });
});
