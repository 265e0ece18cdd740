/** POST /revoke: token revocation (RFC 7009). A refresh token or an access token ends its session. */
import { type FastifyInstance } from "fastify";
import { type SessionDeps } from "../auth/refresh-tokens";
import { revokeToken } from "../auth/revoke-token";
import { ServiceUnavailable } from "../errors";
import { noStore, sendOAuthError } from "./oauth-errors";
import { readForm, refuseOtherMethods, registerOAuthFormScope, required } from "./oauth-form";

/** The parameters this endpoint reads (or ignores: a public client may send its client_id). */
const KNOWN_PARAMETERS: ReadonlySet<string> = new Set(["token", "token_type_hint", "client_id", "client_secret"]);

/**
 * Registers `/revoke`. Clients are public (no client registry, as at /token): holding the token is
 * the proof, and all it can do is end the session it belongs to. `token_type_hint` is read and
 * ignored (RFC 7009 section 2.1 allows that): the two kinds of token cannot be confused.
 * 200 with an empty body for any well-formed request, whether something was ended or not
 * (section 2.2), so the answer tells nothing about the token; 400 invalid_request without `token`.
 */
export async function registerRevokeRoute(app: FastifyInstance, deps: SessionDeps, databaseReady: () => boolean): Promise<void> {
  await registerOAuthFormScope(app, (scope) => {
    scope.post("/revoke", async (request, reply) => {
      try {
        if (!databaseReady()) throw new ServiceUnavailable("database start-up has not finished");
        const token = required(readForm(request.body, KNOWN_PARAMETERS), "token");
        await revokeToken(deps, token, { clientAddress: request.ip, userAgent: request.headers["user-agent"] });
        return noStore(reply).code(200).send();
      } catch (error) {
        return sendOAuthError(request, reply, error, "revocation");
      }
    });
    refuseOtherMethods(scope, "/revoke", "The revocation endpoint accepts POST only");
  });
}
