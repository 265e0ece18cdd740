/** format-error: the one mapping from thrown errors to what clients see, and the WWW-Authenticate challenge. */
import { GraphQLError, buildSchema, locatedError, parse, validate } from "graphql";
import {
  InactiveUser,
  InsufficientScope,
  InvalidCredentials,
  InvalidToken,
  NotAuthenticated,
  RateLimited,
  ServiceUnavailable,
  UnknownScope,
} from "../errors";
import { createFormatError, isExpectedError, wwwAuthenticateFor } from "./format-error";

const masked = createFormatError({ exposeUnexpected: false });
const exposed = createFormatError({ exposeUnexpected: true });

/** As graphql-js hands a resolver's error to Apollo: located at a path, wrapping what was thrown. */
function thrownBy(field: string, error: unknown): GraphQLError {
  return locatedError(error, null, [field]);
}

/** Runs an error through formatError as Apollo does: its JSON form first, then the error itself. */
function format(error: GraphQLError, formatError = masked) {
  return formatError(error.toJSON(), error);
}

/** As Apollo reports a request error: its own GraphQLError with a code, wrapping graphql-js's. */
function apolloRequestError(inner: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(inner.message, { nodes: inner.nodes, originalError: inner, extensions: { code } });
}

describe("createFormatError", () => {
  it("keeps an AppError's code and message, and nothing from its cause", () => {
    const result = format(thrownBy("me", new InvalidToken("jwt expired at 2031-05-01")));
    expect(result).toEqual({ message: "Could not validate credentials", path: ["me"], extensions: { code: "UNAUTHENTICATED" } });
    expect(JSON.stringify(result)).not.toContain("expired");
  });

  it.each([
    [new NotAuthenticated(), "UNAUTHENTICATED", "Not authenticated"],
    [new InsufficientScope(["me"]), "FORBIDDEN", "Not enough permissions"],
    [new InactiveUser(), "FORBIDDEN", "Inactive user"],
    [new InvalidCredentials(), "UNAUTHENTICATED", "Incorrect username or password"],
  ])("maps %p to its contract code and message", (error, code, message) => {
    expect(format(thrownBy("field", error))).toMatchObject({ message, extensions: { code } });
  });

  it("names the scope of UnknownScope in its BAD_USER_INPUT message", () => {
    const result = format(thrownBy("login", new UnknownScope("admin")));
    expect(result.extensions).toEqual({ code: "BAD_USER_INPUT" });
    expect(result.message).toContain("admin");
  });

  it("adds an AppError's public extensions, such as retryAfter", () => {
    expect(format(thrownBy("login", new RateLimited(42))).extensions).toEqual({ code: "RATE_LIMITED", retryAfter: 42 });
  });

  it("drops the stack trace of an AppError even where unexpected errors are exposed", () => {
    const error = thrownBy("me", new NotAuthenticated());
    const withStack = {
      ...error.toJSON(),
      extensions: { code: "UNAUTHENTICATED", stacktrace: ["NotAuthenticated: Not authenticated", "    at x"] },
    };
    expect(exposed(withStack, error).extensions).toEqual({ code: "UNAUTHENTICATED" });
  });

  it("masks an unexpected error as Internal server error, with no message, stack or SQL of its own", () => {
    const error = thrownBy("me", new Error('SQLITE_ERROR: no such table: "users"'));
    const result = masked({ ...error.toJSON(), extensions: { stacktrace: ["Error: SQLITE_ERROR", "    at x"] } }, error);
    expect(result).toEqual({ message: "Internal server error", path: ["me"], extensions: { code: "INTERNAL_SERVER_ERROR" } });
  });

  it("keeps an unexpected error's own message when told to expose it (development)", () => {
    expect(format(thrownBy("me", new Error("Cannot read properties of undefined (reading 'id')")), exposed).message).toBe(
      "Cannot read properties of undefined (reading 'id')",
    );
  });

  it("passes Apollo's parse, validation and variable errors through unchanged", () => {
    let syntax: GraphQLError | undefined;
    try {
      parse("{ me {");
    } catch (error) {
      syntax = error as GraphQLError;
    }
    const schema = buildSchema("type Query { status: String }");
    const [unknownField] = validate(schema, parse("{ secrets }"));
    const variable = new GraphQLError('Variable "$p" got invalid value 1; String cannot represent a non string value: 1');
    for (const error of [
      apolloRequestError(syntax!, "GRAPHQL_PARSE_FAILED"),
      apolloRequestError(unknownField!, "GRAPHQL_VALIDATION_FAILED"),
      apolloRequestError(variable, "BAD_USER_INPUT"),
      new GraphQLError("POST body missing.", { extensions: { code: "BAD_REQUEST" } }),
    ]) {
      expect(isExpectedError(error)).toBe(true);
      expect(format(error)).toEqual(error.toJSON());
    }
  });

  it.each([
    ["a refused connection", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" })],
    ["a terminated backend", Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" })],
    ["a socket closed under the client", new Error("Connection terminated unexpectedly")],
    ["a locked SQLite file", Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" })],
  ])("answers %s (ServiceUnavailable from the database) as Service unavailable, even exposed", (_, cause) => {
    const error = thrownBy("me", new ServiceUnavailable(cause));
    for (const formatError of [masked, exposed]) {
      expect(format(error, formatError)).toEqual({
        message: "Service unavailable",
        path: ["me"],
        extensions: { code: "INTERNAL_SERVER_ERROR" },
      });
    }
    expect(isExpectedError(error)).toBe(false);
  });

  it("masks a raw driver error like any other fault: outages are recognised at the database boundary only", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    const raw = thrownBy("me", refused);
    const masked = { message: "Internal server error", path: ["me"], extensions: { code: "INTERNAL_SERVER_ERROR" } };
    expect(format(raw)).toEqual(masked);
    expect(isExpectedError(raw)).toBe(false);
  });

  it("answers a ServiceUnavailable thrown by a plugin (wrapped without a path) the same way", () => {
    const error = new GraphQLError("Service unavailable", { originalError: new ServiceUnavailable("start-up") });
    expect(format(error)).toEqual({ message: "Service unavailable", extensions: { code: "INTERNAL_SERVER_ERROR" } });
  });

  it("masks an error that only claims a request code while wrapping a fault of ours", () => {
    const disguised = thrownBy(
      "me",
      new GraphQLError("bad", { originalError: new Error("SELECT * FROM users"), extensions: { code: "BAD_USER_INPUT" } }),
    );
    expect(isExpectedError(disguised)).toBe(false);
    expect(format(disguised).message).toBe("Internal server error");
  });
});

describe("wwwAuthenticateFor", () => {
  it("challenges with a bare Bearer when no token was sent, or the credentials were wrong at login", () => {
    expect(wwwAuthenticateFor([thrownBy("me", new NotAuthenticated())])).toBe("Bearer");
    expect(wwwAuthenticateFor([thrownBy("login", new InvalidCredentials())])).toBe("Bearer");
  });

  it('says error="invalid_token" for a token that was sent and refused', () => {
    expect(wwwAuthenticateFor([thrownBy("me", new InvalidToken())])).toBe('Bearer error="invalid_token"');
  });

  it("names the scopes the field needs for insufficient_scope", () => {
    expect(wwwAuthenticateFor([thrownBy("myItems", new InsufficientScope(["me", "items"]))])).toBe(
      'Bearer error="insufficient_scope", scope="me items"',
    );
  });

  it("lets an authentication failure outrank a missing scope in the same response", () => {
    const errors = [thrownBy("myItems", new InsufficientScope(["me", "items"])), thrownBy("me", new InvalidToken())];
    expect(wwwAuthenticateFor(errors)).toBe('Bearer error="invalid_token"');
  });

  it("sets none for an inactive user, a bad scope request or an unexpected error", () => {
    expect(wwwAuthenticateFor([thrownBy("me", new InactiveUser())])).toBeUndefined();
    expect(wwwAuthenticateFor([thrownBy("login", new UnknownScope("admin"))])).toBeUndefined();
    expect(wwwAuthenticateFor([thrownBy("me", new Error("boom"))])).toBeUndefined();
    expect(wwwAuthenticateFor([])).toBeUndefined();
  });
});
