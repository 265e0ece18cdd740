/** classify: the one rule for status, log level and public summary, and InvalidToken's cause. */
import { classify, logSummary } from "./error-classes";
import { InvalidCredentials, InvalidToken, InvalidUtf8Body, RateLimited, ServerBusy, ServiceUnavailable, ShuttingDown } from "./errors";

describe("classify", () => {
  it("answers a domain error 400 with its code and message, logging nothing", () => {
    expect(classify(new InvalidCredentials())).toMatchObject({
      status: 400,
      logLevel: "silent",
      publicError: { code: "UNAUTHENTICATED", message: "Incorrect username or password" },
      closeConnection: false,
    });
  });

  it("gives a rate limit 429 and a full hash queue 503, each with Retry-After", () => {
    expect(classify(new RateLimited(42))).toMatchObject({
      status: 429,
      logLevel: "silent",
      retryAfter: 42,
      extensions: { retryAfter: 42 },
    });
    expect(classify(new ServerBusy(3))).toMatchObject({
      status: 503,
      logLevel: "silent",
      retryAfter: 3,
      closeConnection: false,
    });
    expect(classify(new ShuttingDown())).toMatchObject({ status: 503, retryAfter: 1, closeConnection: true });
  });

  it("logs an outage at warn with the driver's code and message only, and answers Service unavailable", () => {
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    const outage = classify(new ServiceUnavailable(cause));
    expect(outage).toMatchObject({
      status: 503,
      logLevel: "warn",
      publicError: { code: "INTERNAL_SERVER_ERROR", message: "Service unavailable" },
    });
    expect(outage.err).toEqual({ code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:5432" });
    expect(outage.retryAfter).toBeUndefined();
  });

  it("passes an HTTP refusal's status and fixed text, logged at info", () => {
    expect(classify(new InvalidUtf8Body())).toMatchObject({
      status: 400,
      logLevel: "info",
      publicError: { code: "invalid_body", message: "The request body is not valid UTF-8" },
    });
  });

  it("masks anything else as a 500 logged at error with the error itself", () => {
    const bug = Object.assign(new Error("SELECT * FROM users"), { statusCode: 502 });
    const result = classify(bug);
    expect(result).toMatchObject({
      status: 500,
      logLevel: "error",
      publicError: { code: "INTERNAL_SERVER_ERROR", message: "Internal server error" },
    });
    expect(result.err).toBe(bug);
    expect(classify("thrown string").status).toBe(500);
  });
});

describe("logSummary", () => {
  it("takes a reason string for a start-up ServiceUnavailable, and never a stack", () => {
    expect(logSummary(new ServiceUnavailable("database start-up has not finished"))).toEqual({
      message: "database start-up has not finished",
    });
    expect(JSON.stringify(logSummary(new Error("boom")))).not.toContain("at ");
  });
});

describe("InvalidToken", () => {
  it("keeps the error that refused the token as its cause when a reason is given", () => {
    const library = new Error("invalid signature");
    const error = new InvalidToken("invalid signature", library);
    expect(error.cause).toBe(library);
    expect(error.reason).toBe("invalid signature");
    expect(error.message).toBe("Could not validate credentials");
    expect(new InvalidToken("expired").cause).toBe("expired");
  });
});
