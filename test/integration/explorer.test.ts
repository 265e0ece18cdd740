/**
 * The offline explorer (CONTRACT 15, issue 13) in a real browser: nothing outside the server is ever
 * asked for, and login then me work from its editors.
 */
import { type Page, type Request } from "playwright-core";
import { launchBrowser, type TestBrowser } from "../browser";
import { startTestServer, type TestServer } from "../harness";

jest.setTimeout(90_000);

/** What a page asked for outside the server (every such request is refused), and what went wrong in it. */
interface Watch {
  readonly outside: string[];
  readonly problems: string[];
}

/**
 * Opens a page where every request to another origin is aborted as if offline and recorded, and
 * Content-Security-Policy violations (requests the page's CSP stopped before the network) and page
 * errors are recorded too.
 */
async function offlinePage(browser: TestBrowser, serverUrl: string): Promise<{ page: Page; watch: Watch }> {
  const origin = new URL(serverUrl).origin;
  const watch: Watch = { outside: [], problems: [] };
  const page = await browser.context.newPage();
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    watch.outside.push(url);
    return route.abort("internetdisconnected");
  });
  await page.addInitScript({
    content: `document.addEventListener("securitypolicyviolation", (e) => console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI));`,
  });
  page.on("console", (message) => {
    if (message.text().startsWith("CSP violation")) watch.problems.push(message.text());
  });
  page.on("pageerror", (error) => watch.problems.push(`page error: ${error.message}`));
  return { page, watch };
}

/** Replaces the whole text of a GraphiQL (Monaco) editor, as pasting would: typing would auto-close brackets. */
async function replaceEditorText(page: Page, editor: string, text: string): Promise<void> {
  await page.locator(`${editor} .monaco-editor`).first().click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
}

/** Runs the operation in the query editor and waits for the answer to the POST it sends. */
async function run(page: Page, operation: string): Promise<{ request: Request; body: any }> {
  // GraphiQL reads the operation name from the editor a moment after an edit, and names the tab
  // after it: once the tab says so, the run sends this operation and not the previous one.
  await page.locator(".graphiql-tab-active", { hasText: operation }).waitFor();
  const answered = page.waitForResponse(
    (response) => response.url().endsWith("/graphql") && (response.request().postData() ?? "").includes(operation),
  );
  await page.locator(".graphiql-execute-button").click();
  const response = await answered;
  return { request: response.request(), body: await response.json() };
}

describe("the offline explorer (development)", () => {
  let server: TestServer;
  let browser: TestBrowser;
  beforeAll(async () => {
    server = await startTestServer({ env: { NODE_ENV: "development" } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("loads at /graphiql without asking for anything outside the server, and runs login, then me with the Authorization header from its headers editor", async () => {
    const user = await server.createUser({ prefix: "explorer" });
    const { page, watch } = await offlinePage(browser, server.url);
    await page.goto(`${server.url}/graphiql`);
    await page.locator(".graphiql-query-editor .monaco-editor").first().waitFor();

    await replaceEditorText(
      page,
      ".graphiql-query-editor",
      `mutation ExplorerLogin { login(username: "${user.username}", password: "${user.password}") { accessToken } }`,
    );
    const login = await run(page, "ExplorerLogin");
    const token = login.body.data?.login?.accessToken as string;
    expect(typeof token).toBe("string");
    await page.locator(".graphiql-response").getByText("accessToken").waitFor();

    // The Headers tab is open from the start; its editor is the visible one of the two tools.
    await page.locator(".graphiql-editor-tools button", { hasText: "Headers" }).click();
    await replaceEditorText(page, ".graphiql-editor-tool .graphiql-editor:not(.hidden)", `{"Authorization": "Bearer ${token}"}`);
    await replaceEditorText(page, ".graphiql-query-editor", "query ExplorerMe { me { username scopes } }");
    const me = await run(page, "ExplorerMe");
    expect(me.request.headers()["authorization"]).toBe(`Bearer ${token}`);
    expect(me.body).toEqual({ data: { me: { username: user.username, scopes: ["me", "items"] } } });
    await page.locator(".graphiql-response").getByText(user.username).waitFor();

    expect(watch.outside).toEqual([]);
    expect(watch.problems).toEqual([]);
    await page.close();
  });

  it("is offered by the Sandbox page at GET /graphql, which moves to it when Sandbox's CDN cannot be reached", async () => {
    const { page, watch } = await offlinePage(browser, server.url);
    await page.goto(`${server.url}/graphql`);
    await page.waitForURL(`${server.url}/graphiql`);
    await page.locator(".graphiql-query-editor .monaco-editor").first().waitFor();
    // Sandbox itself is online only: its page asked the CDN (and was refused), the explorer nothing.
    expect(watch.outside.some((url) => url.startsWith("https://embeddable-sandbox.cdn.apollographql.com/"))).toBe(true);
    expect(watch.outside.every((url) => !url.startsWith(server.url))).toBe(true);
    expect(watch.problems).toEqual([]);
    await page.close();
  });
});

describe("the explorer over plain HTTP", () => {
  it("is served with a CSP of the server's own origin in development, links from the Sandbox page, and is absent in production", async () => {
    const development = await startTestServer({ env: { NODE_ENV: "development" } });
    try {
      const page = await fetch(`${development.url}/graphiql`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const csp = page.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toMatch(/https?:/);
      expect(await page.text()).toContain('<script src="/graphiql/explorer.js">');
      const script = await fetch(`${development.url}/graphiql/explorer.js`);
      expect([script.status, script.headers.get("content-type")]).toEqual([200, "text/javascript; charset=utf-8"]);
      expect((await fetch(`${development.url}/graphiql/.inputs-sha256`)).status).toBe(404);
      expect((await fetch(`${development.url}/graphiql/..%2fmain.js`)).status).toBe(404);

      const sandbox = await fetch(`${development.url}/graphql`, { headers: { accept: "text/html" } });
      expect(await sandbox.text()).toContain('Open the <a href="/graphiql">offline explorer</a>');
    } finally {
      await development.close();
    }
    const production = await startTestServer({ env: { NODE_ENV: "production" } });
    try {
      expect((await fetch(`${production.url}/graphiql`)).status).toBe(404);
      expect((await fetch(`${production.url}/graphiql/explorer.js`)).status).toBe(404);
    } finally {
      await production.close();
    }
  });
});
