/** The account pages end to end: the link from a real mail (smtp-server, mailparser) opened in Chromium, then used. */
import { createServer } from "node:net";
import { type AddressInfo } from "node:net";
import { type Page } from "playwright-core";
import { launchBrowser, type TestBrowser } from "../browser";
import { DIALECTS, movableClock, startTestServer, uniqueName, type MovableClock, type TestServer } from "../harness";
import { startSmtpSink, waitFor, type SmtpSink } from "../smtp-sink";

jest.setTimeout(120_000);

const MINUTE = 60_000;
const REGISTER = `mutation R($u: String!, $e: String!, $p: String!) {
  register(username: $u, email: $e, password: $p) { emailVerified }
}`;
const LOGIN = "mutation L($u: String!, $p: String!) { login(username: $u, password: $p) { scope } }";
const RESET_PASSWORD = "mutation X($t: String!, $n: String!) { resetPassword(token: $t, newPassword: $n) }";
const VERIFIED = "Your email address is verified. You can close this page.";
const RESET = "Your password has been changed. You can now log in with your new password.";

/** A port free a moment ago: the server listens there, so APP_URL (and the links in the mails) name it. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((listening) => probe.listen(0, "127.0.0.1", listening));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((closed) => probe.close(() => closed()));
  return port;
}

describe.each(DIALECTS)("the account pages with the accounts mutations (%s)", (dialect) => {
  let sink: SmtpSink;
  let clock: MovableClock;
  let server: TestServer;
  let browser: TestBrowser;
  let appUrl: string;
  beforeAll(async () => {
    sink = await startSmtpSink();
    clock = movableClock();
    const port = await freePort();
    appUrl = `http://127.0.0.1:${port}`;
    server = await startTestServer({
      dialect,
      clock,
      env: { PORT: String(port), APP_URL: appUrl, REGISTRATION: "open", SMTP_URL: sink.url },
      mail: { pollIntervalMs: 20 },
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await sink?.close();
  });

  /** Waits for the message with `subject` to `email` and returns the link in its text part. */
  async function linkFromMail(email: string, subject: string, path: string): Promise<string> {
    const find = () => sink.received.find((m) => m.envelopeTo.includes(email) && m.mail.subject === subject);
    await waitFor(() => find() !== undefined, `the mail "${subject}" to ${email}`);
    const text = find()!.mail.text ?? "";
    const link = text.match(/\bhttps?:\/\/\S+/)?.[0] ?? "";
    expect(link).toMatch(new RegExp(`^${appUrl}${path}#token=[A-Za-z0-9_-]{43}$`));
    return link;
  }

  /** Opens a link in a fresh page and waits until the page has settled; every request it makes is recorded. */
  async function open(link: string): Promise<{ page: Page; posts: string[] }> {
    const page = await browser.context.newPage();
    const posts: string[] = [];
    page.on("request", (request) => void (request.method() === "POST" && posts.push(request.url())));
    await page.goto(link, { waitUntil: "networkidle" });
    expect(page.url()).toBe(link.slice(0, link.indexOf("#")));
    return { page, posts };
  }

  async function register(): Promise<{ username: string; email: string; password: string }> {
    const username = uniqueName("pages");
    const email = `${username}@example.com`;
    const password = `pw-${username}-long`;
    const registered = await server.gql(REGISTER, { u: username, e: email, p: password });
    expect(registered.body).toEqual({ data: { register: { emailVerified: false } } });
    return { username, email, password };
  }

  async function emailVerified(username: string, password: string): Promise<boolean> {
    const me = await server.gql("{ me { emailVerified } }", {}, { token: await server.login(username, password) });
    return me.body.data.me.emailVerified as boolean;
  }

  async function requestReset(email: string): Promise<void> {
    const requested = await server.gql("mutation P($e: String!) { requestPasswordReset(email: $e) }", { e: email });
    expect(requested.body).toEqual({ data: { requestPasswordReset: true } });
  }

  it("register, then the mail's link: opening it spends nothing, the button verifies, a second use fails", async () => {
    const { username, email, password } = await register();
    const link = await linkFromMail(email, "Verify your email address", "/verify-email");

    // A mail scanner opens the link (and runs its script): nothing is posted, nothing changes.
    const scanned = await open(link);
    await scanned.page.waitForTimeout(300);
    expect(scanned.posts).toEqual([]);
    await scanned.page.close();
    expect(await emailVerified(username, password)).toBe(false);

    const { page, posts } = await open(link);
    await page.getByRole("button", { name: "Verify my email address" }).click();
    await page.getByRole("status").getByText(VERIFIED, { exact: true }).waitFor();
    expect(posts).toEqual([`${appUrl}/graphql`]);
    expect(await page.getByRole("button").count()).toBe(0);
    await page.close();
    expect(await emailVerified(username, password)).toBe(true);

    const again = await open(link);
    await again.page.getByRole("button", { name: "Verify my email address" }).click();
    await again.page.getByRole("status").getByText("Invalid or expired token", { exact: true }).waitFor();
    await again.page.close();
  });

  it("the reset mail's link: opening spends nothing; a common password: the server's error; then a reset", async () => {
    const user = await server.createUser({ prefix: "pagesreset" });
    const email = `${user.username}@example.com`;
    await requestReset(email);
    const link = await linkFromMail(email, "Reset your password", "/reset-password");

    const scanned = await open(link);
    await scanned.page.waitForTimeout(300);
    expect(scanned.posts).toEqual([]);
    await scanned.page.close();

    const { page } = await open(link);
    const status = page.getByRole("status");
    await page.getByLabel("New password", { exact: true }).fill("Password123");
    await page.getByLabel("New password again", { exact: true }).fill("Password123");
    await page.getByRole("button", { name: "Set my new password" }).click();
    await status.getByText("Password is too common", { exact: true }).waitFor();

    const chosen = `new-${user.username}-pass`;
    await page.getByLabel("New password", { exact: true }).fill(chosen);
    await page.getByLabel("New password again", { exact: true }).fill(chosen);
    await page.getByLabel("New password again", { exact: true }).press("Enter");
    await status.getByText(RESET, { exact: true }).waitFor();
    await page.close();

    const old = await server.gql(LOGIN, { u: user.username, p: user.password });
    const refused = old.body.errors?.map((e) => [e.extensions?.code, e.message]);
    expect(refused).toEqual([["UNAUTHENTICATED", "Incorrect username or password"]]);
    expect(typeof (await server.login(user.username, chosen))).toBe("string");
  });

  it("a reset link only opened in the page still works afterwards (the mutation itself takes it)", async () => {
    const user = await server.createUser({ prefix: "pagesopened" });
    const email = `${user.username}@example.com`;
    await requestReset(email);
    const link = await linkFromMail(email, "Reset your password", "/reset-password");
    const opened = await open(link);
    await opened.page.waitForTimeout(300);
    expect(opened.posts).toEqual([]);
    await opened.page.close();

    const token = link.slice(link.indexOf("#token=") + "#token=".length);
    const reset = await server.gql(RESET_PASSWORD, { t: token, n: `other-${user.username}-pass` });
    expect(reset.body).toEqual({ data: { resetPassword: true } });
  });

  it("an expired link shows the server's error: reset after 31 minutes, verification after 25 hours", async () => {
    const user = await server.createUser({ prefix: "pagesexpired" });
    const email = `${user.username}@example.com`;
    await requestReset(email);
    const resetLink = await linkFromMail(email, "Reset your password", "/reset-password");
    clock.advance(31 * MINUTE);
    const reset = await open(resetLink);
    await reset.page.getByLabel("New password", { exact: true }).fill(`late-${user.username}-pass`);
    await reset.page.getByLabel("New password again", { exact: true }).fill(`late-${user.username}-pass`);
    await reset.page.getByRole("button", { name: "Set my new password" }).click();
    await reset.page.getByRole("status").getByText("Invalid or expired token", { exact: true }).waitFor();
    await reset.page.close();
    expect(typeof (await server.login(user.username, user.password))).toBe("string");

    const registered = await register();
    const verifyLink = await linkFromMail(registered.email, "Verify your email address", "/verify-email");
    clock.advance(25 * 60 * MINUTE);
    const verify = await open(verifyLink);
    await verify.page.getByRole("button", { name: "Verify my email address" }).click();
    await verify.page.getByRole("status").getByText("Invalid or expired token", { exact: true }).waitFor();
    await verify.page.close();
    expect(await emailVerified(registered.username, registered.password)).toBe(false);
  });
});
