/** The form-encoded OAuth endpoints' common ground: their own Fastify scope, the form parser, parameters, the 405. */
import { type FastifyInstance } from "fastify";
import { classify } from "../error-classes";
import { bodyText, formPairs } from "./body-text";
import { OAuthRequestError, sendOAuth } from "./oauth-errors";

/** What the form parser leaves in `request.body`: every parameter, and those sent more than once. */
export interface Form {
  readonly kind: "form";
  readonly params: ReadonlyMap<string, string>;
  readonly repeated: ReadonlySet<string>;
}
const NOT_A_FORM = { kind: "other" } as const;

/**
 * Registers `routes` in a Fastify scope of their own, so that their form parser and OAuth error
 * shape touch no other route. Only `application/x-www-form-urlencoded` is parsed (UTF-8 only, as
 * every body: body-text.ts), under the server's body limit; any other body (JSON included) is
 * kept as "not a form" and refused invalid_request by readForm, in the OAuth shape rather than
 * Fastify's 415.
 */
export async function registerOAuthFormScope(app: FastifyInstance, routes: (scope: FastifyInstance) => void): Promise<void> {
  await app.register(async (scope) => {
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
        request.log[logLevel]({ err }, `unexpected error at ${request.routeOptions.url ?? "an OAuth endpoint"}`);
        return sendOAuth(reply, { status, body: { error: "server_error", error_description: publicError.message } });
      }
      request.log[logLevel]({ err }, "request refused");
      return sendOAuth(reply, { status, body: { error: "invalid_request", error_description: publicError.message } });
    });
    routes(scope);
  });
}

/** RFC 6749 section 3.2 (and RFC 7009, 7662 after it): these endpoints take POST only. HEAD comes with GET. */
export function refuseOtherMethods(scope: FastifyInstance, url: string, description: string): void {
  scope.route({
    method: ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"],
    url,
    handler: async (_request, reply) =>
      sendOAuth(reply, {
        status: 405,
        body: { error: "invalid_request", error_description: description },
        headers: { allow: "POST" },
      }),
  });
}

/**
 * The form a handler received, checked: a form, with none of `known` sent twice (RFC 6749 section 3.2).
 * @throws OAuthRequestError invalid_request.
 */
export function readForm(body: unknown, known: ReadonlySet<string>): Form {
  if (!body || typeof body !== "object" || (body as { kind?: unknown }).kind !== "form") {
    throw new OAuthRequestError("invalid_request", "The body must be application/x-www-form-urlencoded");
  }
  const form = body as Form;
  const repeated = [...form.repeated].find((name) => known.has(name));
  if (repeated !== undefined) throw new OAuthRequestError("invalid_request", `Parameter sent more than once: ${repeated}`);
  return form;
}

/** A parameter's value; RFC 6749 section 3.1 treats an empty one as omitted. */
export function parameter(form: Form, name: string): string | undefined {
  const value = form.params.get(name);
  return value === undefined || value === "" ? undefined : value;
}

/** @throws OAuthRequestError invalid_request naming the missing parameter (a fixed name, never the input). */
export function required(form: Form, name: string): string {
  const value = parameter(form, name);
  if (value === undefined) throw new OAuthRequestError("invalid_request", `Missing parameter: ${name}`);
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
