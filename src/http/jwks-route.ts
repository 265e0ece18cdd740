/** GET /.well-known/jwks.json: the public signing keys (RFC 7517), so other services verify tokens without a secret. */
import { type FastifyInstance } from "fastify";

/**
 * Keys are loaded once at start and change only with a restart, so verifiers may cache the set for
 * a few minutes; a verifier that meets an unknown `kid` should fetch it again (jose's
 * createRemoteJWKSet does). Under HS256 the set is empty: the secret is never published.
 */
export const JWKS_CACHE_CONTROL = "public, max-age=300";

export function registerJwksRoute(app: FastifyInstance, jwks: { readonly keys: readonly Record<string, unknown>[] }): void {
  const body = JSON.stringify(jwks);
  app.get("/.well-known/jwks.json", async (_request, reply) =>
    reply.header("cache-control", JWKS_CACHE_CONTROL).type("application/json; charset=utf-8").send(body),
  );
}
