/** POST /token: the OAuth2 token endpoint (RFC 6749 sections 4.3, 6, 5.1, 5.2), a second door to login and refresh. */
import { type FastifyInstance } from "fastify";
import { login, type LoginDeps } from "../auth/login";
import { refresh, type TokenPair } from "../auth/refresh-tokens";
import { ServiceUnavailable } from "../errors";
import { clientGoneSignal } from "./client-gone";
import { noStore, OAuthRequestError, sendOAuthError } from "./oauth-errors";
import { parameter, readForm, refuseOtherMethods, registerOAuthFormScope, required, type Form } from "./oauth-form";

/** The parameters this endpoint reads; RFC 6749 section 3.2 forbids sending one twice. */
const KNOWN_PARAMETERS: ReadonlySet<string> = new Set([
  "grant_type",
  "username",
  "password",
  "scope",
  "refresh_token",
  "mfa_token",
  "otp",
  "client_id",
  "client_secret",
]);

/** The second step of a two-factor login, as Auth0's clients send it (CONTRACT section 11). */
const MFA_OTP_GRANT = "http://auth0.com/oauth/grant-type/mfa-otp";

/** Every grant type `grant` below accepts: the metadata (RFC 8414) lists exactly these. */
export const GRANT_TYPES: readonly string[] = Object.freeze(["password", "refresh_token", MFA_OTP_GRANT]);

/** Registers `/token` in a scope of its own, so its form parser and error shape touch no other route. */
export async function registerTokenRoute(app: FastifyInstance, deps: LoginDeps, databaseReady: () => boolean): Promise<void> {
  await registerOAuthFormScope(app, (scope) => {
    scope.post("/token", async (request, reply) => {
      try {
        // Until the schema is migrated every query would fail; say so before trying.
        if (!databaseReady()) throw new ServiceUnavailable("database start-up has not finished");
        const client = { clientAddress: request.ip, userAgent: request.headers["user-agent"] };
        const pair = await grant(deps, readForm(request.body, KNOWN_PARAMETERS), client, clientGoneSignal(reply.raw));
        noStore(reply);
        return reply.code(200).send({
          access_token: pair.accessToken,
          token_type: "bearer",
          expires_in: pair.expiresIn,
          refresh_token: pair.refreshToken,
          scope: pair.scope,
        });
      } catch (error) {
        return sendOAuthError(request, reply, error, "token");
      }
    });
    refuseOtherMethods(scope, "/token", "The token endpoint accepts POST only");
  });
}

/** Who sent the request: recorded on the session a password grant starts. */
interface Client {
  readonly clientAddress: string;
  readonly userAgent?: string;
}

/** Hands a well-formed request to the same use cases the GraphQL mutations call. */
async function grant(deps: LoginDeps, form: Form, client: Client, signal: AbortSignal): Promise<TokenPair> {
  const grantType = parameter(form, "grant_type");
  if (grantType === undefined) throw new OAuthRequestError("invalid_request", "Missing parameter: grant_type");
  const scope = parameter(form, "scope");
  // One scope string of RFC 6749 section 3.3; login and refresh check its grammar before anything else.
  const scopes = scope === undefined ? undefined : [scope];
  switch (grantType) {
    case "password": {
      const credentials = { username: required(form, "username"), password: required(form, "password") };
      return login(deps, { ...credentials, scopes, ...client, signal });
    }
    case "refresh_token":
      return refresh(deps, required(form, "refresh_token"), scopes, client);
    case MFA_OTP_GRANT: {
      const verification = { mfaToken: required(form, "mfa_token"), code: required(form, "otp") };
      return deps.secondFactor.verify({ ...verification, ...client });
    }
    default:
      throw new OAuthRequestError("unsupported_grant_type", `Supported grant types: ${GRANT_TYPES.join(", ")}`);
  }
}
