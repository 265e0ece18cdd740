/** POST /introspect: token introspection (RFC 7662), for resource servers that must honour a revocation at once. */
import { type FastifyInstance, type FastifyReply } from "fastify";
import { buildContext, type ContextDeps } from "../auth/context";
import { introspectToken, type IntrospectionDeps } from "../auth/introspection";
import { InactiveUser, InsufficientScope, InvalidToken, NotAuthenticated, ServiceUnavailable } from "../errors";
import { wwwAuthenticateFor } from "../graphql/format-error";
import { INTROSPECT_SCOPE } from "../users/scopes";
import { authorizationOf } from "./authorization-header";
import { noStore, sendOAuth, sendOAuthError, type OAuthErrorCode } from "./oauth-errors";
import { readForm, refuseOtherMethods, registerOAuthFormScope, required } from "./oauth-form";

const KNOWN_PARAMETERS: ReadonlySet<string> = new Set(["token", "token_type_hint"]);

/**
 * Registers `/introspect`. The caller (a resource server) sends `Authorization: Bearer` with an
 * access token of an active account holding scope `introspect`, judged exactly as a GraphQL
 * request's (buildContext), so that the endpoint cannot be used to scan for tokens (RFC 7662
 * section 2.1). Any refusal of the caller is 401 with WWW-Authenticate (section 2.3, RFC 6750
 * section 3). `token_type_hint` is ignored: an access token and a refresh token cannot be confused.
 */
export async function registerIntrospectRoute(
  app: FastifyInstance,
  deps: IntrospectionDeps & ContextDeps,
  databaseReady: () => boolean,
): Promise<void> {
  await registerOAuthFormScope(app, (scope) => {
    scope.post("/introspect", async (request, reply) => {
      try {
        if (!databaseReady()) throw new ServiceUnavailable("database start-up has not finished");
        const credentials = { requestId: request.id, clientAddress: request.ip, authorization: authorizationOf(request.raw.rawHeaders) };
        const caller = await buildContext(credentials, deps).viewer();
        // In the order of the GraphQL auth checker: the scope, then an active account.
        if (!caller.scopes.includes(INTROSPECT_SCOPE)) throw new InsufficientScope([INTROSPECT_SCOPE]);
        if (caller.user.disabled) throw new InactiveUser();
        const token = required(readForm(request.body, KNOWN_PARAMETERS), "token");
        return noStore(reply)
          .code(200)
          .send(await introspectToken(deps, token));
      } catch (error) {
        return refuseCaller(reply, error) ?? sendOAuthError(request, reply, error, "introspection");
      }
    });
    refuseOtherMethods(scope, "/introspect", "The introspection endpoint accepts POST only");
  });
}

/**
 * A caller that may not introspect: 401 with the challenge RFC 6750 section 3 describes (derived by
 * the same helper as GraphQL's), and a body in the OAuth shape. undefined for any other error.
 */
function refuseCaller(reply: FastifyReply, error: unknown): FastifyReply | undefined {
  let code: OAuthErrorCode;
  if (error instanceof NotAuthenticated) code = "invalid_client";
  else if (error instanceof InvalidToken || error instanceof InactiveUser) code = "invalid_token";
  else if (error instanceof InsufficientScope) code = "insufficient_scope";
  else return undefined;
  // A disabled account's token is valid, but not for this request (RFC 7662 section 2.3).
  const challenge = wwwAuthenticateFor([error]) ?? 'Bearer error="invalid_token"';
  const body = { error: code, error_description: (error as Error).message };
  return sendOAuth(reply, { status: 401, body, headers: { "www-authenticate": challenge } });
}
