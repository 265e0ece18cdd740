/** GET /verify-email and GET /reset-password: the pages the links in mails open, with their script and styles. */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type FastifyInstance } from "fastify";

/**
 * The committed page files (src/accounts/pages), found from src/http (jest) and from dist/http
 * (`npm start`) alike: both sit two folders below the package root, and the files are served as
 * they are, so the build has nothing to copy.
 */
export const ACCOUNT_PAGES_DIR = resolve(__dirname, "..", "..", "src", "accounts", "pages");

/** Where the pages' script and style sheet are served from. */
export const ACCOUNT_ASSETS_PATH = "/account-pages";

/**
 * Only this server's own script, style sheet and /graphql: no inline script or style, so text an
 * attacker slipped into the page could not run; no framing (clickjacking the button), no <base>,
 * forms post nowhere else. The token is in the fragment, which no request carries; no-referrer
 * keeps the page's address out of any request all the same. `img-src data:` is for the empty
 * `data:,` icon, which keeps the browser from asking for /favicon.ico.
 */
export const ACCOUNT_PAGES_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** Route path → file and its type. Nothing else in the folder is reachable. */
const ROUTES: ReadonlyArray<readonly [path: string, file: string, type: string]> = [
  ["/verify-email", "verify-email.html", "text/html; charset=utf-8"],
  ["/reset-password", "reset-password.html", "text/html; charset=utf-8"],
  [`${ACCOUNT_ASSETS_PATH}/app.js`, "app.js", "text/javascript; charset=utf-8"],
  [`${ACCOUNT_ASSETS_PATH}/app.css`, "app.css", "text/css; charset=utf-8"],
];

/**
 * Registers the pages and their assets, in every NODE_ENV (they are the links in the mails). The
 * files are read once here, so a missing one stops start-up rather than failing a user's click.
 * The request guard (allowed hosts, encodings) applies as on every route.
 */
export function registerAccountPagesRoutes(app: FastifyInstance, dir = ACCOUNT_PAGES_DIR): void {
  for (const [path, file, type] of ROUTES) {
    const body = readFileSync(join(dir, file));
    app.get(path, (_request, reply) =>
      reply
        .header("content-security-policy", ACCOUNT_PAGES_CSP)
        .header("referrer-policy", "no-referrer")
        .header("x-frame-options", "DENY")
        .header("x-content-type-options", "nosniff")
        // The pages are small and change with a release; no-store keeps no copy of a page that
        // was opened from a link in any cache on the way.
        .header("cache-control", "no-store")
        .type(type)
        .send(body),
    );
  }
}
