/**
 * ATTACKS.md H13 in a real browser (Chromium): a page on another origin logs in and calls `me` through
 * CORS when its origin is allowed, and cannot when it is not.
 */
import { createServer, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import { launchBrowser, type TestBrowser } from "../browser";
import { startTestServer, type TestServer } from "../harness";

jest.setTimeout(60_000);

/** The browser app: what Apollo Client's HttpLink sends, a JSON POST, first without a token, then with it. */
const APP_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>browser app</title></head><body>
<script>
  window.signIn = async function (api, username, password) {
    try {
      const login = await fetch(api + "/graphql", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: "mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }",
          variables: { u: username, p: password },
        }),
      });
      const token = (await login.json()).data.login.accessToken;
      const me = await fetch(api + "/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer " + token },
        body: JSON.stringify({ query: "{ me { username } }" }),
      });
      return { me: (await me.json()).data.me };
    } catch (error) {
      return { error: String(error) };
    }
  };
</script></body></html>`;

/** A tiny web server on an ephemeral port: its own origin, serving the app page only. */
async function startAppServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((_request, response) =>
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(APP_PAGE),
  );
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise<void>((closed) => server.close(() => closed())) };
}

// The browser and CORS do not depend on the dialect, so one is enough here.
describe("H13 a browser app on another origin (CORS)", () => {
  let allowedApp: Awaited<ReturnType<typeof startAppServer>>;
  let otherApp: Awaited<ReturnType<typeof startAppServer>>;
  let server: TestServer;
  let browser: TestBrowser;
  beforeAll(async () => {
    allowedApp = await startAppServer();
    otherApp = await startAppServer();
    server = await startTestServer({ env: { CORS_ORIGINS: allowedApp.origin } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await allowedApp?.close();
    await otherApp?.close();
  });

  async function signInFrom(origin: string, username: string, password: string): Promise<{ me?: { username: string }; error?: string }> {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${origin}/`);
      return await page.evaluate(`window.signIn(${JSON.stringify(server.url)}, ${JSON.stringify(username)}, ${JSON.stringify(password)})`);
    } finally {
      await page.close();
    }
  }

  it("H13: an allowed origin's preflight is 204 and its page logs in and calls me with the bearer header; another origin gets no Access-Control-Allow-Origin and its fetch throws", async () => {
    for (const [origin, allowOrigin] of [
      [allowedApp.origin, allowedApp.origin],
      [otherApp.origin, null],
    ] as const) {
      const preflight = await fetch(`${server.url}/graphql`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
      });
      expect([origin, preflight.status, preflight.headers.get("access-control-allow-origin")]).toEqual([origin, 204, allowOrigin]);
    }
    const user = await server.createUser({ prefix: "cors" });
    expect(await signInFrom(allowedApp.origin, user.username, user.password)).toEqual({ me: { username: user.username } });
    expect(await signInFrom(otherApp.origin, user.username, user.password)).toEqual({ error: "TypeError: Failed to fetch" });
  });
});
