import {
  InactiveUser,
  InvalidCredentials,
  InvalidRefreshToken,
  InvalidInput,
  InvalidScope,
  RateLimited,
  ScopeNotGranted,
  ServerBusy,
  ServiceUnavailable,
  ShuttingDown,
  UnknownScope,
} from "../errors";
import { oauthErrorFor } from "./oauth-errors";

/** A driver's own error, as pg throws it when nothing listens. */
const REFUSED = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });

describe("oauthErrorFor", () => {
  it.each([
    [new InvalidCredentials(), 400, "invalid_grant"],
    [new InactiveUser(), 400, "invalid_grant"],
    [new InvalidRefreshToken("spent"), 400, "invalid_grant"],
    [new InvalidInput("bad"), 400, "invalid_request"],
  ])("maps %p to %i %s", (error, status, code) => {
    expect(oauthErrorFor(error)).toMatchObject({ status, body: { error: code, error_description: error.message } });
  });

  it.each([
    [new UnknownScope("admin"), "Scope not available to this account"],
    [new ScopeNotGranted("items"), "Scope not granted to this refresh token"],
    [new InvalidScope(), "Invalid scope"],
  ])("maps %p to invalid_scope with a fixed description that names no scope", (error, description) => {
    expect(oauthErrorFor(error)).toEqual({ status: 400, body: { error: "invalid_scope", error_description: description } });
  });

  it("answers a rate limit with 429 and Retry-After in seconds", () => {
    expect(oauthErrorFor(new RateLimited(42))).toEqual({
      status: 429,
      body: { error: "rate_limited", error_description: "Too many failed login attempts; retry in 42 seconds" },
      headers: { "retry-after": "42" },
    });
  });

  it.each([
    ["ServiceUnavailable", new ServiceUnavailable("start-up")],
    ["a refused connection", new ServiceUnavailable(REFUSED)],
    ["a terminated backend", new ServiceUnavailable(Object.assign(new Error("terminating"), { code: "57P01" }))],
  ])("answers %s with 503 temporarily_unavailable, naming no driver detail", (_label, error) => {
    expect(oauthErrorFor(error)).toEqual({
      status: 503,
      body: { error: "temporarily_unavailable", error_description: "Service unavailable" },
    });
  });

  it("leaves unexpected errors alone, to become a 500 without detail", () => {
    expect(oauthErrorFor(new Error("database is on fire"))).toBeUndefined();
    // A driver's error that did not pass the database boundary is no outage here either.
    expect(oauthErrorFor(REFUSED)).toBeUndefined();
  });

  it("answers a full hash queue with 503, its Retry-After, and Connection: close while stopping", () => {
    expect(oauthErrorFor(new ServerBusy(3))).toEqual({
      status: 503,
      body: { error: "temporarily_unavailable", error_description: "Server busy; retry in 3 seconds" },
      headers: { "retry-after": "3" },
    });
    const stopping = oauthErrorFor(new ShuttingDown());
    expect(stopping).toMatchObject({ status: 503, headers: { "retry-after": "1", connection: "close" } });
  });
});
