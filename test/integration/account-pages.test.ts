/** GET /verify-email and /reset-password (CONTRACT section 10): the pages, their script and styles, their headers. */
import { request } from "node:http";
import { startTestServer, type TestServer } from "../harness";

const PAGES = ["/verify-email", "/reset-password"];
const SCRIPT = "/account-pages/app.js";
const STYLES = "/account-pages/app.css";

/** GET with a Host header of the test's choosing, which fetch does not let a caller set. */
function getWithHost(baseUrl: string, path: string, host: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((done, fail) => {
    const req = request({ host: hostname, port, path, agent: false, headers: { host, connection: "close" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", fail);
    req.end();
  });
}

/** The headers every page and asset carries, whatever NODE_ENV. */
function expectPageHeaders(path: string, headers: Headers): void {
  const csp = headers.get("content-security-policy") ?? "";
  const directives = new Map(
    csp
      .split(";")
      .map((d) => d.trim().split(/\s+/) as [string, ...string[]])
      .map(([k, ...v]) => [k, v]),
  );
  expect([path, directives.get("default-src")]).toEqual([path, ["'none'"]]);
  expect([path, directives.get("script-src")]).toEqual([path, ["'self'"]]);
  expect([path, directives.get("style-src")]).toEqual([path, ["'self'"]]);
  expect([path, directives.get("connect-src")]).toEqual([path, ["'self'"]]);
  expect([path, directives.get("frame-ancestors")]).toEqual([path, ["'none'"]]);
  expect([path, directives.get("base-uri")]).toEqual([path, ["'none'"]]);
  expect([path, directives.get("form-action")]).toEqual([path, ["'self'"]]);
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
  expect([path, headers.get("referrer-policy")]).toEqual([path, "no-referrer"]);
  expect([path, headers.get("x-frame-options")]).toEqual([path, "DENY"]);
  expect([path, headers.get("x-content-type-options")]).toEqual([path, "nosniff"]);
  expect([path, headers.get("cache-control")]).toEqual([path, "no-store"]);
}

describe.each(["development", "test", "production"])("the account pages (NODE_ENV=%s)", (nodeEnv) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { NODE_ENV: nodeEnv } });
  });
  afterAll(async () => {
    await server?.close();
  });

  const servesAll =
    "serves both pages as HTML with the CSP, Referrer-Policy, frame denial, nosniff and no-store; " +
    "the script and the style sheet with their types and the same headers";
  it(servesAll, async () => {
    for (const path of PAGES) {
      const page = await fetch(`${server.url}${path}`);
      expect([path, page.status, page.headers.get("content-type")]).toEqual([path, 200, "text/html; charset=utf-8"]);
      expectPageHeaders(path, page.headers);
      const html = await page.text();
      expect(html).toContain(`<script src="${SCRIPT}" defer></script>`);
      expect(html).toContain(`<link rel="stylesheet" href="${STYLES}" />`);
      expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1" />');
    }
    const script = await fetch(`${server.url}${SCRIPT}`);
    expect([script.status, script.headers.get("content-type")]).toEqual([200, "text/javascript; charset=utf-8"]);
    expectPageHeaders(SCRIPT, script.headers);
    const styles = await fetch(`${server.url}${STYLES}`);
    expect([styles.status, styles.headers.get("content-type")]).toEqual([200, "text/css; charset=utf-8"]);
    expectPageHeaders(STYLES, styles.headers);
  });

  it("has no inline script or style and names nothing outside the server: every src and href is its own", async () => {
    for (const path of PAGES) {
      const html = await (await fetch(`${server.url}${path}`)).text();
      // Inline code would be refused by the CSP: a <script> with content, a style element or attribute, an on* handler.
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
      const references = [...html.matchAll(/\s(?:src|href|action)="([^"]*)"/g)].map((m) => m[1]);
      expect(references.sort()).toEqual(["/account-pages/app.css", "/account-pages/app.js", "data:,"]);
    }
    const script = await (await fetch(`${server.url}${SCRIPT}`)).text();
    const styles = await (await fetch(`${server.url}${STYLES}`)).text();
    const pages = await Promise.all(PAGES.map(async (path) => (await fetch(`${server.url}${path}`)).text()));
    for (const text of [...pages, script, styles]) {
      // A scheme-qualified URL or a protocol-relative one ('//host' in quotes or url()).
      expect(text).not.toMatch(/\b(?:https?|wss?|ftp):|["'(`]\/\/|@import|url\(/i);
    }
    // The one request the script makes: this origin's /graphql, as JSON.
    expect([...script.matchAll(/fetch\(([^,]*),/g)].map((m) => m[1])).toEqual(['"/graphql"']);
    expect(script).toContain('headers: { "content-type": "application/json" }');
  });

  it("serves the four files and nothing else from the pages' folder", async () => {
    const status = async (path: string) => [path, (await fetch(`${server.url}${path}`)).status];
    for (const path of [...PAGES, SCRIPT, STYLES]) expect(await status(path)).toEqual([path, 200]);
    const others = ["/account-pages/verify-email.html", "/account-pages/", "/account-pages/..%2fapp.js", "/app.js"];
    for (const path of others) expect(await status(path)).toEqual([path, 404]);
  });
});

describe("the account pages behind ALLOWED_HOSTS", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { NODE_ENV: "production", ALLOWED_HOSTS: "auth.example.com" } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("answers its own host name and refuses another with 421 and a JSON body, like every route", async () => {
    for (const path of [...PAGES, SCRIPT, STYLES]) {
      expect([path, (await getWithHost(server.url, path, "auth.example.com")).status]).toEqual([path, 200]);
      const refused = await getWithHost(server.url, path, "rebind.attacker.example");
      expect([path, refused.status, JSON.parse(refused.body)]).toEqual([
        path,
        421,
        { error: "misdirected_request", message: "This server does not answer for that host" },
      ]);
    }
  });
});
