/** CORS for the API's endpoints: which browser origins may call them, and the preflight answer. */
import fastifyCors, { type FastifyCorsOptions } from "@fastify/cors";
import { type FastifyInstance } from "fastify";

/** The endpoints a browser app on another origin may call; a path listed before it exists costs nothing. */
export const CORS_PATHS: ReadonlySet<string> = new Set(["/graphql", "/token", "/revoke", "/introspect"]);

/** What a GraphQL client sends: Apollo Client's CSRF headers included, so its requests pass Apollo's check. */
const ALLOWED_HEADERS = ["content-type", "authorization", "apollo-require-preflight", "x-apollo-operation-name"];

/** Headers a client needs to read on answers it is refused: the challenge and when to retry. */
const EXPOSED_HEADERS = ["www-authenticate", "retry-after"];

/**
 * Turns CORS_ORIGINS entries into matchers for the Origin header: an exact origin, or one whose
 * port is `*` (any port, or none). `*` alone matches every origin.
 */
export function corsOriginMatchers(origins: readonly string[]): Array<string | RegExp> {
  if (origins.includes("*")) return [/^/];
  return origins.map((origin) => {
    if (!origin.endsWith(":*")) return origin;
    const escaped = origin.slice(0, -2).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp(`^${escaped}(?::\\d{1,5})?$`);
  });
}

/**
 * Registers `routes`, the endpoints of CORS_PATHS, in a scope of their own with @fastify/cors and
 * its options fixed at start. Preflights (OPTIONS) there are answered 204 in the onRequest hook,
 * before Apollo, whose CSRF check would refuse them; every other request still goes through that
 * check. An origin not allowed gets no Access-Control-Allow-Origin, so the browser keeps the answer
 * from the page. No credentials mode: tokens travel in the Authorization header, never in cookies.
 *
 * A scope, not a delegator choosing options by path: with a delegator @fastify/cors normalises
 * the options it is handed on every request, and under a pinned /healthz load that alone made
 * about 5 % of all young bytes live long enough to be promoted (40,000 requests/s against 56,000
 * without it; bench/README.md). Other paths get no CORS hook at all. The catch-all OPTIONS route the
 * plugin adds lands in this scope; CORS is off for it, so a preflight for any other path is 404.
 */
export async function registerCorsScope(
  fastify: FastifyInstance,
  origins: readonly string[],
  routes: (api: FastifyInstance) => Promise<void>,
): Promise<void> {
  const options: FastifyCorsOptions = {
    origin: corsOriginMatchers(origins),
    methods: ["GET", "POST"],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    // An OPTIONS without Origin (curl, a health checker) is answered like a preflight, not 400.
    strictPreflight: false,
    // Browsers cap this (Chromium at 2 hours); 10 minutes saves a preflight per request.
    maxAge: 600,
  };
  await fastify.register(async (api) => {
    api.addHook("onRoute", (route) => {
      if (route.url === "*" || route.url === "/*") {
        route.config = { ...route.config, cors: false };
        return;
      }
      if (!CORS_PATHS.has(route.url)) throw new Error(`registerCorsScope: ${route.url} is not one of CORS_PATHS`);
    });
    await api.register(fastifyCors, options);
    await routes(api);
  });
}
