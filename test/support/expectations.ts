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
