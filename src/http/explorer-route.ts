/** GET /graphiql: the offline explorer, static files built by explorer/build.mjs, served in development only. */
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { type FastifyInstance, type FastifyReply } from "fastify";
import { EXPLORER_PATH } from "../graphql/landing-page";
import { type Logger } from "../log";

/**
 * Where `npm run build` puts the explorer: `<package>/dist/explorer`, found from dist/http and
 * from src/http alike (jest runs the sources; the bundle comes from the build either way).
 */
export const EXPLORER_DIR = resolve(__dirname, "..", "..", "dist", "explorer");

/** The only files served, with their types: nothing else under the folder is reachable. */
const FILES: ReadonlyMap<string, string> = new Map([
  ["index.html", "text/html; charset=utf-8"],
  ["explorer.js", "text/javascript; charset=utf-8"],
  ["explorer.css", "text/css; charset=utf-8"],
  ["editor.worker.js", "text/javascript; charset=utf-8"],
  ["json.worker.js", "text/javascript; charset=utf-8"],
  ["graphql.worker.js", "text/javascript; charset=utf-8"],
]);

/**
 * Everything from this server and nothing from anywhere else, so the page works offline and a
 * mistake in it cannot send a token elsewhere. Styles may be inline because Monaco (GraphiQL's
 * editor) writes style elements at run time; fonts are data: URLs in the style sheet.
 */
export const EXPLORER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "connect-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src data:",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Registers the explorer's page and assets under EXPLORER_PATH; a missing build answers 503 and says how to build it. */
export function registerExplorerRoutes(app: FastifyInstance, logger: Logger, dir = EXPLORER_DIR): void {
  if (!existsSync(join(dir, "index.html"))) {
    logger.warn({ dir }, `the offline explorer is not built (run npm run build); ${EXPLORER_PATH} answers 503`);
  }
  const serve = (name: string) => async (_request: unknown, reply: FastifyReply) => {
    let body: Buffer;
    try {
      body = await readFile(join(dir, name));
    } catch {
      return reply.code(503).send({ error: "explorer_not_built", message: "The explorer is not built: run npm run build" });
    }
    return (
      reply
        .header("content-security-policy", EXPLORER_CSP)
        .header("x-content-type-options", "nosniff")
        // A rebuild shows at the next load; the browser still revalidates rather than refetching blindly.
        .header("cache-control", "no-cache")
        .type(FILES.get(name)!)
        .send(body)
    );
  };
  app.get(EXPLORER_PATH, serve("index.html"));
  app.get(`${EXPLORER_PATH}/`, serve("index.html"));
  for (const name of FILES.keys()) if (name !== "index.html") app.get(`${EXPLORER_PATH}/${name}`, serve(name));
}
