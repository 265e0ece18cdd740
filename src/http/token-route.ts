/** POST /token: the OAuth2 token endpoint (RFC 6749 sections 4.3, 6, 5.1, 5.2), a second door to login and refresh. */
import { type FastifyInstance, type FastifyReply } from "fastify";
import { login, type LoginDeps } from "../auth/login";
import { refresh, type TokenPair } from "../auth/refresh-tokens";
import { classify } from "../error-classes";
import { bodyText, formPairs } from "./body-text";
import { clientGoneSignal } from "./client-gone";
import {
  EmailNotVerified,
  InactiveUser,
  InvalidCredentials,
  InvalidMfaCode,
  InvalidMfaToken,
  InvalidRefreshToken,
  MfaRequired,
  InvalidScope,
  RateLimited,
  ScopeNotGranted,
  ServiceUnavailable,
  UnknownScope,
} from "../errors";

type OAuthErrorCode =
  | "invalid_request"
  | "invalid_grant"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "mfa_required"
  | "rate_limited"
  | "server_error"
  | "temporarily_unavailable";

/** A request this endpoint cannot even hand to a use case (shape, grant type). */
class TokenRequestError extends Error {
  /** A client's mistake: classify logs it at info, without a stack, like Fastify's own 4xx. */
  readonly statusCode = 400;

  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
  }
}

interface OAuthAnswer {
  readonly status: number;
  /** `mfa_token` only with `mfa_required` (the password step of a two-factor login). */
  readonly body: { error: OAuthErrorCode; error_description: string; mfa_token?: string };
  readonly headers?: Record<string, string>;
}

/** What the form parser leaves in `request.body`: every parameter, and those sent more than once. */
interface Form {
  readonly kind: "form";
  readonly params: ReadonlyMap<string, string>;
  readonly repeated: ReadonlySet<string>;
}
const NOT_A_FORM = { kind: "other" } as const;

/** The parameters this endpoint reads; RFC 6749 section 3.2 forbids sending one twice. */
const KNOWN_PARAMETERS = new Set([
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

/**
 * The one mapping from our errors to OAuth error answers (RFC 6749 section 5.2): status,
 * Retry-After and the description come from classify; this names the OAuth code. Returns
 * undefined for an error that is not the client's (it then becomes a 500 without detail).
 */
export function oauthErrorFor(error: unknown): OAuthAnswer | undefined {
  if (error instanceof TokenRequestError) return { status: 400, body: { error: error.error, error_description: error.description } };
  const { status, publicError, retryAfter, closeConnection } = classify(error);
  if (status === 500) return undefined;
  const body = {
    error: oauthCodeFor(error, status),
    error_description: oauthDescriptionFor(error, publicError.message),
    ...(error instanceof MfaRequired && { mfa_token: error.mfaToken }),
  };
  if (retryAfter === undefined) return { status, body };
  const headers = { "retry-after": String(retryAfter), ...(closeConnection && { connection: "close" }) };
  return { status, body, headers };
}

function oauthCodeFor(error: unknown, status: number): OAuthErrorCode {
  // The database cannot answer, the hash queue is full, or the server is stopping: not the
  // client's fault, and worth retrying. OAuth names temporarily_unavailable for its authorization
  // endpoint (RFC 6749 section 4.1.2.1); the token endpoint borrows it, with HTTP's own 503.
  if (status === 503) return "temporarily_unavailable";
  if (error instanceof RateLimited) return "rate_limited";
  if (error instanceof MfaRequired) return "mfa_required";
  if (error instanceof InvalidMfaCode || error instanceof InvalidMfaToken) return "invalid_grant";
  // RFC 6749 section 5.2: the resource owner's credentials cannot be used as a grant (now).
  if (error instanceof InvalidCredentials || error instanceof InactiveUser) return "invalid_grant";
  if (error instanceof EmailNotVerified) return "invalid_grant";
  if (error instanceof InvalidRefreshToken) return "invalid_grant";
  const scope = error instanceof InvalidScope || error instanceof UnknownScope || error instanceof ScopeNotGranted;
  if (scope) return "invalid_scope";
  return "invalid_request";
}

/**
 * Fixed texts for scopes: GraphQL names a scope the account lacks, but an OAuth description is
 * read by client software and logs, so none carries the client's scope text (RFC 6749 section 5.2).
 */
function oauthDescriptionFor(error: unknown, message: string): string {
  if (error instanceof InvalidScope) return "Invalid scope";
  if (error instanceof UnknownScope) return "Scope not available to this account";
  if (error instanceof ScopeNotGranted) return "Scope not granted to this refresh token";
  return message;
}

/** Registers `/token` in a scope of its own, so its form parser and error shape touch no other route. */
export async function registerTokenRoute(app: FastifyInstance, deps: LoginDeps, databaseReady: () => boolean): Promise<void> {
  await app.register(async (scope) => {
    // Only forms are parsed; any other body (JSON included) is kept as "not a form" and answered
    // invalid_request by the handler, in the OAuth shape rather than Fastify's 415.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "buffer" }, (request, body, done) => {
      let form: Form;
      try {
        form = parseForm(bodyText(body as Buffer, request.headers["content-type"]));
      } catch (error) {
        return done(error as Error, undefined);
      }
      done(null, form);
    });
    scope.addContentTypeParser("*", { parseAs: "buffer" }, (_request, _body, done) => done(null, NOT_A_FORM));

    // Errors before the handler (the body's parser) and those the handler leaves (faults of ours).
    scope.setErrorHandler((error: unknown, request, reply) => {
      const { status, logLevel, publicError, err } = classify(error);
      if (status >= 500) {
        request.log[logLevel]({ err }, "unexpected error at the token endpoint");
        return sendOAuth(reply, { status, body: { error: "server_error", error_description: publicError.message } });
      }
      request.log[logLevel]({ err }, "request refused");
      return sendOAuth(reply, { status, body: { error: "invalid_request", error_description: publicError.message } });
    });

    scope.post("/token", async (request, reply) => {
      try {
        // Until the schema is migrated every query would fail; say so before trying.
        if (!databaseReady()) throw new ServiceUnavailable("database start-up has not finished");
        const client = { clientAddress: request.ip, userAgent: request.headers["user-agent"] };
        const pair = await grant(deps, readForm(request.body), client, clientGoneSignal(reply.raw));
        noStore(reply);
        return reply.code(200).send({
          access_token: pair.accessToken,
          token_type: "bearer",
          expires_in: pair.expiresIn,
          refresh_token: pair.refreshToken,
          scope: pair.scope,
        });
      } catch (error) {
        const answer = oauthErrorFor(error);
        if (!answer) throw error;
        const { logLevel, err } = classify(error);
        const line = logLevel === "warn" ? "database unavailable at the token endpoint" : "request refused";
        request.log[logLevel]({ err }, line);
        return sendOAuth(reply, answer);
      }
    });

    // RFC 6749 section 3.2: the token endpoint takes POST only. HEAD comes with GET.
    scope.route({
      method: ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"],
      url: "/token",
      handler: async (_request, reply) =>
        sendOAuth(reply, {
          status: 405,
          body: { error: "invalid_request", error_description: "The token endpoint accepts POST only" },
          headers: { allow: "POST" },
        }),
    });
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
  if (grantType === undefined) throw new TokenRequestError("invalid_request", "Missing parameter: grant_type");
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
      throw new TokenRequestError("unsupported_grant_type", `Supported grant types: password, refresh_token, ${MFA_OTP_GRANT}`);
  }
}

function readForm(body: unknown): Form {
  if (!body || typeof body !== "object" || (body as { kind?: unknown }).kind !== "form") {
    throw new TokenRequestError("invalid_request", "The body must be application/x-www-form-urlencoded");
  }
  const form = body as Form;
  const repeated = [...form.repeated].find((name) => KNOWN_PARAMETERS.has(name));
  if (repeated !== undefined) throw new TokenRequestError("invalid_request", `Parameter sent more than once: ${repeated}`);
  return form;
}

/** A parameter's value; RFC 6749 section 3.1 treats an empty one as omitted. */
function parameter(form: Form, name: string): string | undefined {
  const value = form.params.get(name);
  return value === undefined || value === "" ? undefined : value;
}

function required(form: Form, name: string): string {
  const value = parameter(form, name);
  if (value === undefined) throw new TokenRequestError("invalid_request", `Missing parameter: ${name}`);
  return value;
}

/** Parses a form as URLSearchParams does (`+` is a space, percent-escapes decoded; not UTF-8: 400), noting repeats. */
function parseForm(text: string): Form {
  const params = new Map<string, string>();
  const repeated = new Set<string>();
  for (const [name, value] of formPairs(text)) {
    if (params.has(name)) repeated.add(name);
    else params.set(name, value);
  }
  return { kind: "form", params, repeated };
}

/** RFC 6749 section 5.1: token responses, and our error answers too, are never cached. */
function noStore(reply: FastifyReply): void {
  reply.header("cache-control", "no-store").header("pragma", "no-cache");
}

function sendOAuth(reply: FastifyReply, answer: OAuthAnswer): FastifyReply {
  noStore(reply);
  for (const [name, value] of Object.entries(answer.headers ?? {})) reply.header(name, value);
  return reply.code(answer.status).send(answer.body);
}
