/** GET /.well-known/oauth-authorization-server: the authorization server's metadata (RFC 8414). */
import { type FastifyInstance } from "fastify";
import { type Config } from "../config";
import { SERVER_SCOPES } from "../users/scopes";
import { JWKS_CACHE_CONTROL } from "./jwks-route";
import { GRANT_TYPES } from "./token-route";

/**
 * The metadata document: every URL absolute under PUBLIC_URL, the issuer JWT_ISSUER (clients that
 * check it against the URL they discovered from, as openid-client does, need JWT_ISSUER set to
 * PUBLIC_URL). Built once: it changes only with the configuration, at a restart.
 */
export function oauthMetadata(config: Pick<Config, "jwtIssuer" | "accounts">): Record<string, unknown> {
  const base = config.accounts.publicUrl;
  return {
    issuer: config.jwtIssuer,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    revocation_endpoint: `${base}/revoke`,
    introspection_endpoint: `${base}/introspect`,
    grant_types_supported: GRANT_TYPES,
    scopes_supported: SERVER_SCOPES,
    // Required by RFC 8414, and empty: there is no authorization endpoint, so no response type
    // (code, token) is served; every grant goes straight to the token endpoint.
    response_types_supported: [],
    // Public clients only: /token and /revoke ignore client_id and client_secret ("none"; left
    // out, RFC 8414 would have the default client_secret_basic read). /introspect takes no client
    // authentication but a bearer token with scope introspect, for which the registry has no
    // value: the member is left out, which RFC 8414 says means "determined by other means".
    token_endpoint_auth_methods_supported: ["none"],
    revocation_endpoint_auth_methods_supported: ["none"],
  };
}

export function registerOAuthMetadataRoute(app: FastifyInstance, config: Pick<Config, "jwtIssuer" | "accounts">): void {
  const body = JSON.stringify(oauthMetadata(config));
  app.get("/.well-known/oauth-authorization-server", async (_request, reply) =>
    reply.header("cache-control", JWKS_CACHE_CONTROL).type("application/json; charset=utf-8").send(body),
  );
}
