/** Refuses, before routing reads anything, requests for a foreign Host and encoded request bodies. */
import { type FastifyInstance, type FastifyRequest } from "fastify";
import { HostNotAllowed, UnsupportedContentEncoding } from "../errors";

/**
 * Adds an onRequest hook on every route: a Host outside `allowedHosts` (undefined: any) gets 421,
 * and a request with a Content-Encoding other than `identity` gets 415. Both errors go to the
 * route's own error handler, so /token answers them in the OAuth shape.
 */
export function registerRequestGuard(app: FastifyInstance, allowedHosts: readonly string[] | undefined): void {
  const hosts = allowedHosts === undefined ? undefined : new Set(allowedHosts);
  // Callback style: it runs on every request, and an async hook costs a promise each time.
  app.addHook("onRequest", (request, _reply, done) => {
    if (hosts !== undefined && !hosts.has(hostNameOf(request))) return done(new HostNotAllowed());
    const encoding = request.headers["content-encoding"];
    // Nothing here inflates a body; left to the JSON parser, gzip would be "Body is not valid JSON".
    if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity" && encoding.trim() !== "") {
      return done(new UnsupportedContentEncoding());
    }
    done();
  });
}

/**
 * The host name the client asked for, without the port, lower-cased and without a final dot.
 * Fastify takes it from X-Forwarded-Host only when the proxy that wrote it is trusted.
 */
function hostNameOf(request: FastifyRequest): string {
  const name = request.hostname.toLowerCase();
  return name.endsWith(".") ? name.slice(0, -1) : name;
}
