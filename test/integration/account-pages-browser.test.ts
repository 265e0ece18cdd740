/** The account pages in Debian's Chromium: the CSP in force and obeyed, the token kept back, keyboard use. */
import { type Page, type Request } from "playwright-core";
import { launchBrowser, type TestBrowser } from "../browser";
import { startTestServer, type TestServer } from "../harness";

jest.setTimeout(90_000);

/** What a page asked for, what its CSP refused and what failed in it. */
interface Watch {
  readonly requests: Request[];
  readonly violations: string[];
  readonly errors: string[];
}

/**
 * A page whose every request is recorded (one to another origin is aborted and fails the test's
 * check), with Content-Security-Policy violation events and page errors recorded too. The listener
 * is an init script, which the page's CSP does not govern.
 */
async function watchedPage(browser: TestBrowser, serverUrl: string): Promise<{ page: Page; watch: Watch }> {
  const origin = new URL(serverUrl).origin;
  const watch: Watch = { requests: [], violations: [], errors: [] };
  const page = await browser.context.newPage();
  const own = (url: string) => new URL(url).origin === origin;
  await page.route("**/*", (route) => (own(route.request().url()) ? route.continue() : route.abort()));
  page.on("request", (request) => watch.requests.push(request));
  await page.addInitScript({
    content: [
      'document.addEventListener("securitypolicyviolation", (e) =>',
      '  console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI));',
    ].join("\n"),
  });
  page.on("console", (message) => {
    if (message.text().startsWith("CSP violation")) watch.violations.push(message.text());
    else if (message.type() === "error") watch.errors.push(message.text());
  });
  page.on("pageerror", (error) => watch.errors.push(`page error: ${error.message}`));
  return { page, watch };
}

/** The paths the page asked this server for, in order; anything elsewhere appears whole. */
function asked(watch: Watch, serverUrl: string): string[] {
  const origin = new URL(serverUrl).origin;
  return watch.requests.map((r) => {
    const url = new URL(r.url());
    return url.origin === origin ? `${r.method()} ${url.pathname}` : r.url();
  });
}

/** The id of the element that has the focus. */
function focused(page: Page): Promise<string> {
  return page.evaluate("document.activeElement ? document.activeElement.id : ''") as Promise<string>;
}

describe("the account pages in a browser", () => {
  let server: TestServer;
  let browser: TestBrowser;
  beforeAll(async () => {
    server = await startTestServer({ env: { NODE_ENV: "production" } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("loads each page with only its own HTML, script and style sheet, without one CSP violation", async () => {
    for (const path of ["/verify-email", "/reset-password"]) {
      const { page, watch } = await watchedPage(browser, server.url);
      await page.goto(`${server.url}${path}#token=abc`, { waitUntil: "networkidle" });
      // The script ran (it took the token out of the address bar) and the style sheet applies (its 28rem column).
      expect(page.url()).toBe(`${server.url}${path}`);
      expect(await page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth")).toBe("448px");
      const expected = [`GET ${path}`, "GET /account-pages/app.css", "GET /account-pages/app.js"];
      expect(asked(watch, server.url)).toEqual(expected);
      expect(watch.violations).toEqual([]);
      expect(watch.errors).toEqual([]);
      await page.close();
    }
  });

  it("enforces its CSP: an inline script or style injected into the page neither runs nor applies", async () => {
    const { page, watch } = await watchedPage(browser, server.url);
    await page.goto(`${server.url}/verify-email#token=abc`, { waitUntil: "networkidle" });
    const outcome = await page.evaluate(`(() => {
      const script = document.createElement("script");
      script.textContent = "window.injected = true";
      document.head.append(script);
      document.querySelector("h1").setAttribute("style", "color: rgb(1, 2, 3)");
      return { ran: window.injected === true, color: getComputedStyle(document.querySelector("h1")).color };
    })()`);
    expect(outcome).toEqual({ ran: false, color: expect.not.stringMatching(/rgb\(1, 2, 3\)/) });
    await page.waitForTimeout(100);
    const directives = watch.violations.map((v) => v.split(" ")[2]);
    expect(directives).toEqual(expect.arrayContaining(["script-src-elem", "style-src-attr"]));
    await page.close();
  });

  it("a link without a token says so, offers no button and sends nothing", async () => {
    for (const path of ["/verify-email", "/reset-password", "/reset-password#token="]) {
      const { page, watch } = await watchedPage(browser, server.url);
      await page.goto(`${server.url}${path}`, { waitUntil: "networkidle" });
      await page.getByRole("status").getByText("This link is incomplete: it has no token.").waitFor();
      expect([path, await page.getByRole("button").count()]).toEqual([path, 0]);
      expect(asked(watch, server.url).filter((r) => r.includes("/graphql"))).toEqual([]);
      expect(watch.violations).toEqual([]);
      await page.close();
    }
  });

  it("verify: opening sends nothing; Tab, Enter POSTs verifyEmail as JSON and shows the server's answer", async () => {
    const { page, watch } = await watchedPage(browser, server.url);
    await page.goto(`${server.url}/verify-email#token=not-a-real-token`, { waitUntil: "networkidle" });
    await page.waitForTimeout(300);
    expect(asked(watch, server.url).filter((r) => r.includes("/graphql"))).toEqual([]);

    await page.keyboard.press("Tab");
    expect(await focused(page)).toBe("submit");
    const answered = page.waitForResponse((response) => response.url() === `${server.url}/graphql`);
    await page.keyboard.press("Enter");
    const response = await answered;
    const sent = response.request();
    expect([sent.method(), sent.headers()["content-type"]]).toEqual(["POST", "application/json"]);
    expect(JSON.parse(sent.postData() ?? "")).toEqual({
      query: "mutation VerifyEmail($token: String!) { verifyEmail(token: $token) }",
      variables: { token: "not-a-real-token" },
    });
    // Whatever the server says is what the page shows (after the merge of the mutations: Invalid or expired token).
    const body = (await response.json()) as { errors: Array<{ message: string }> };
    await page.getByRole("status").getByText(body.errors[0]!.message, { exact: true }).waitFor();
    expect(await focused(page)).toBe("message");
    expect(watch.violations).toEqual([]);
    await page.close();
  });

  it("reset: keyboard alone; too short, too long and unmatched passwords are refused before sending", async () => {
    const { page, watch } = await watchedPage(browser, server.url);
    await page.goto(`${server.url}/reset-password#token=not-a-real-token`, { waitUntil: "networkidle" });
    const status = page.getByRole("status");
    // Types both passwords and presses Enter, starting with the focus on the first field.
    const submitWith = async (first: string, second: string) => {
      expect(await focused(page)).toBe("new-password");
      await page.keyboard.press("ControlOrMeta+A");
      await page.keyboard.insertText(first);
      await page.keyboard.press("Tab");
      expect(await focused(page)).toBe("confirm-password");
      await page.keyboard.press("ControlOrMeta+A");
      await page.keyboard.insertText(second);
      await page.keyboard.press("Enter");
    };

    await page.keyboard.press("Tab");
    await submitWith("short7!", "short7!");
    await status.getByText("The password must be at least 8 characters.", { exact: true }).waitFor();
    expect(await focused(page)).toBe("new-password");
    expect(await page.getAttribute("#new-password", "aria-invalid")).toBe("true");

    // 1025 characters outside the BMP: 2050 UTF-16 units, counted as characters like the server does.
    await submitWith("😀".repeat(1025), "😀".repeat(1025));
    await status.getByText("The password must be at most 1024 characters.", { exact: true }).waitFor();

    await submitWith("a-long-enough-password", "a-long-enough-passw0rd");
    await status.getByText("The two passwords do not match.", { exact: true }).waitFor();
    expect(await focused(page)).toBe("confirm-password");
    expect(await page.getAttribute("#confirm-password", "aria-invalid")).toBe("true");
    expect(await page.getAttribute("#new-password", "aria-invalid")).toBeNull();
    expect(asked(watch, server.url).filter((r) => r.includes("/graphql"))).toEqual([]);

    await page.keyboard.press("Shift+Tab");
    // 1024 characters outside the BMP pass the page's check and are sent.
    const answered = page.waitForResponse((response) => response.url() === `${server.url}/graphql`);
    await submitWith("😀".repeat(1024), "😀".repeat(1024));
    const response = await answered;
    expect(JSON.parse(response.request().postData() ?? "").variables).toEqual({
      token: "not-a-real-token",
      newPassword: "😀".repeat(1024),
    });
    const body = (await response.json()) as { errors: Array<{ message: string }> };
    await status.getByText(body.errors[0]!.message, { exact: true }).waitFor();
    // After the server's refusal, focus is back on the password, ready for another try.
    expect(await focused(page)).toBe("new-password");
    expect(watch.violations).toEqual([]);
    await page.close();
  });

  it("labels every field, and fits a phone's width without scrolling sideways", async () => {
    const { page } = await watchedPage(browser, server.url);
    await page.setViewportSize({ width: 320, height: 640 });
    await page.goto(`${server.url}/reset-password#token=abc`, { waitUntil: "networkidle" });
    await page.getByLabel("New password", { exact: true }).waitFor();
    await page.getByLabel("New password again", { exact: true }).waitFor();
    const layout = (await page.evaluate(`(() => {
      const box = (s) => document.querySelector(s).getBoundingClientRect();
      const scrollWidth = document.documentElement.scrollWidth;
      return { scrollWidth, input: box("#new-password").right, button: box("#submit").right };
    })()`)) as { scrollWidth: number; input: number; button: number };
    expect(layout.scrollWidth).toBeLessThanOrEqual(320);
    expect(layout.input).toBeLessThanOrEqual(320);
    expect(layout.button).toBeLessThanOrEqual(320);
    await page.close();
  });
});
