/** The contract's answers, asserted once with its literal codes and messages (CONTRACT sections 4 and 5). */
import { type GraphQLResponse } from "../harness";

/** 200, no data, exactly one "Could not validate credentials" UNAUTHENTICATED error and the invalid_token challenge. */
export function expectInvalidToken(response: GraphQLResponse): void {
  expect(response.status).toBe(200);
  expect(response.body.data).toBeNull();
  expect(response.body.errors).toEqual([
    expect.objectContaining({ message: "Could not validate credentials", extensions: { code: "UNAUTHENTICATED" } }),
  ]);
  expect(response.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
}

/** 200, no data, exactly one "Incorrect username or password" UNAUTHENTICATED error. */
export function expectIncorrectCredentials(response: GraphQLResponse): void {
  expect(response.status).toBe(200);
  expect(response.body.data ?? null).toBeNull();
  expect(response.body.errors).toEqual([
    expect.objectContaining({ message: "Incorrect username or password", extensions: { code: "UNAUTHENTICATED" } }),
  ]);
}

/** `{ me { id } }` answered with exactly this user and no challenge. */
export function expectMe(response: GraphQLResponse, userId: string): void {
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ data: { me: { id: userId } } });
  expect(response.headers.get("www-authenticate")).toBeNull();
}

/** 200, no data, exactly one RATE_LIMITED error whose message states its integral retryAfter; returns retryAfter. */
export function expectRateLimited(response: GraphQLResponse): number {
  expect(response.status).toBe(200);
  const retryAfter = response.body.errors?.[0]?.extensions?.retryAfter as number;
  expect(Number.isInteger(retryAfter) && retryAfter > 0).toBe(true);
  expect(response.body.errors).toEqual([
    expect.objectContaining({
      message: `Too many failed login attempts; retry in ${retryAfter} seconds`,
      extensions: { code: "RATE_LIMITED", retryAfter },
    }),
  ]);
  expect(response.body.data ?? null).toBeNull();
  return retryAfter;
}
