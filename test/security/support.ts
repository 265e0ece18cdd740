/** Helpers for the attack suites: forged JWTs, a movable clock, raw HTTP, and the contract's answers. */
import { createHmac, randomUUID } from "node:crypto";
import { connect } from "node:net";
import { TEST_SECRET, type GraphQLResponse } from "../harness";
import { type Clock } from "../../src/clock";

export const ME = "{ me { id } }";

/** A clock the test moves by hand; starts at the real time. */
export function movableClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => void (offset += ms) };
}

export const b64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");

/** Signs header and payload (objects, or raw JSON text) with HMAC; `alg` picks SHA-256/384/512. */
export function forge(header: object | string, payload: object | string, key: string | Buffer = TEST_SECRET, bits: 256 | 384 | 512 = 256): string {
  const h = b64url(typeof header === "string" ? header : JSON.stringify(header));
  const p = b64url(typeof payload === "string" ? payload : JSON.stringify(payload));
  const signature = createHmac(`sha${bits}`, key).update(`${h}.${p}`).digest("base64url");
  return `${h}.${p}.${signature}`;
}

export const HEADER = { alg: "HS256", typ: "at+jwt" };

/** The claims the server issues, for `sub`, at the clock's time. */
export function claims(sub: string, clock: Clock, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(clock.now() / 1000);
  return { iss: "graphql-auth-server", aud: "graphql-api", sub, scope: "me items", iat, exp: iat + 600, jti: randomUUID(), ...extra };
}

/** The contract's invalid_token answer (ATTACKS preamble). */
export function expectInvalidToken(response: GraphQLResponse): void {
  expect(response.status).toBeLessThan(500);
  expect(response.body.errors?.[0]).toMatchObject({ message: "Could not validate credentials", extensions: { code: "UNAUTHENTICATED" } });
  expect(response.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
  expect(response.body.data ?? null).toBeNull();
}

/** POSTs `{ me { id } }` with the raw Authorization header values given (several = several headers). */
export async function rawGraphQL(baseUrl: string, authorizations: readonly string[], query = ME): Promise<{ status: number; headers: Record<string, string>; body: any }> {
  const { hostname, port } = new URL(baseUrl);
  const body = JSON.stringify({ query });
  const lines = [
    "POST /graphql HTTP/1.1",
    `Host: ${hostname}:${port}`,
    "Content-Type: application/json",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
    ...authorizations.map((value) => `Authorization: ${value}`),
  ];
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.on("error", reject);
    socket.write(`${lines.join("\r\n")}\r\n\r\n${body}`);
  });
  const [head = "", ...rest] = raw.split("\r\n\r\n");
  const [statusLine = "", ...headerLines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const text = rest.join("\r\n\r\n");
  // Chunked bodies: take the JSON between the chunk-size lines.
  const json = headers["transfer-encoding"] === "chunked" ? text.split("\r\n").filter((_, i) => i % 2 === 1).join("") : text;
  return { status: Number(statusLine.split(" ")[1]), headers, body: json ? JSON.parse(json) : undefined };
}
