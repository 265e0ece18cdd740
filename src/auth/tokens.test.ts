/** tokens: what issueAccessToken writes and what verifyAccessToken refuses, with a movable clock. */
import { createSecretKey } from "node:crypto";
import jwt from "jsonwebtoken";
import { InvalidToken } from "../errors";
import { type SigningKeys } from "./keys";
import { movableClock, type MovableClock } from "../../test/support/clock";
import { TokenService } from "./tokens";

const SECRET = "unit-test-secret-key-of-at-least-32-bytes";
const SETTINGS = { issuer: "graphql-auth-server", audience: "graphql-api", lifetimeSeconds: 1800 };
const USER_ID = "6f1c1f8e-2f43-4a4e-9d1e-0c7f3c1b5a10";

function hsKeys(secret: string): SigningKeys {
  const key = createSecretKey(Buffer.from(secret, "utf8"));
  return { algorithm: "HS256", signing: { key }, verificationKey: () => key, jwks: { keys: [] } };
}

/** The reason verifyAccessToken gives (kept in `reason`, never sent), or "accepted". */
async function refusal(service: TokenService, token: string): Promise<string> {
  try {
    await service.verifyAccessToken(token);
    return "accepted";
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidToken);
    expect((error as InvalidToken).message).toBe("Could not validate credentials");
    return String((error as InvalidToken).reason);
  }
}

const decode = (token: string) => jwt.decode(token, { complete: true })!;

describe("TokenService", () => {
  const start = 1_900_000_000;
  let clock: MovableClock;
  let service: TokenService;
  beforeEach(() => {
    clock = movableClock(start * 1000);
    service = new TokenService(hsKeys(SECRET), SETTINGS, clock);
  });

  it("issues an RFC 9068-shaped token: typ at+jwt, HS256, every claim", async () => {
    const issued = await service.issueAccessToken(USER_ID, ["me", "items"]);
    const { header, payload } = decode(issued.accessToken);
    expect(header).toEqual({ alg: "HS256", typ: "at+jwt" });
    expect(payload).toEqual({
      iss: "graphql-auth-server",
      sub: USER_ID,
      aud: "graphql-api",
      iat: start,
      exp: start + 1800,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      scope: "me items",
    });
    expect(issued).toMatchObject({ expiresIn: 1800, scope: "me items" });
    expect((await service.issueAccessToken(USER_ID, [])).claims.jti).not.toBe(issued.claims.jti);
  });

  it("verifies its own tokens back to their claims", async () => {
    const issued = await service.issueAccessToken(USER_ID, ["me"]);
    expect(await service.verifyAccessToken(issued.accessToken)).toEqual({
      sub: USER_ID,
      scopes: ["me"],
      iat: start,
      exp: start + 1800,
      jti: issued.claims.jti,
    });
  });

  it("carries the session as claim sid, and reads it back; a sid that is not a UUID is refused", async () => {
    const sessionId = "0f7b7f3e-1c52-4c8e-8e0a-5f4f1d2b9c33";
    const issued = await service.issueAccessToken(USER_ID, ["me"], { tokenVersion: 0, sessionId });
    expect(decode(issued.accessToken).payload).toMatchObject({ sid: sessionId, ver: 0 });
    expect(await service.verifyAccessToken(issued.accessToken)).toMatchObject({ sub: USER_ID, sid: sessionId });
    for (const sid of ["not-a-uuid", 42, ""]) {
      const times = { iat: start, exp: start + 60 };
      const registered = { ...times, iss: SETTINGS.issuer, aud: SETTINGS.audience };
      const claims = { sub: USER_ID, scope: "me", jti: "j", sid, ...registered };
      const forged = jwt.sign(claims, SECRET, { algorithm: "HS256", header: { alg: "HS256", typ: "at+jwt" } });
      expect(await refusal(service, forged)).toBe("sid");
    }
  });

  it("issues tokens any standard library verifies with the key alone (as PyJWT's jwt.decode would)", async () => {
    const { accessToken } = await service.issueAccessToken(USER_ID, ["me", "items"]);
    const payload = jwt.verify(accessToken, SECRET, {
      algorithms: ["HS256"],
      audience: "graphql-api",
      issuer: "graphql-auth-server",
      clockTimestamp: start,
    });
    expect(payload).toMatchObject({ sub: USER_ID, scope: "me items" });
  });

  it("allows exactly 5 s of clock skew past exp", async () => {
    const { accessToken } = await service.issueAccessToken(USER_ID, ["me"]);
    clock.advance((1800 + 4) * 1000);
    expect(await refusal(service, accessToken)).toBe("accepted");
    clock.advance(1_000);
    expect(await refusal(service, accessToken)).toBe("jwt expired");
  });

  it("remembers a verified token, but never takes another string for it", async () => {
    const { accessToken } = await service.issueAccessToken(USER_ID, ["me"]);
    expect(await refusal(service, accessToken)).toBe("accepted");
    expect(await refusal(service, accessToken)).toBe("accepted");
    const [header, payload, signature] = accessToken.split(".");
    const otherSignature = `${signature!.slice(0, -2)}${signature!.endsWith("AA") ? "BB" : "AA"}`;
    expect(await refusal(service, `${header}.${payload}.${otherSignature}`)).toBe("invalid signature");
    // The same claims re-encoded with padding are another string, checked from scratch.
    expect(await refusal(service, `${accessToken}=`)).toBe("malformed");
  });

  it("refuses a remembered token before its nbf, as a fresh one, with the clock moved back", async () => {
    const token = jwt.sign(
      { iss: SETTINGS.issuer, aud: SETTINGS.audience, sub: USER_ID, scope: "me", jti: "j1", iat: start, exp: start + 600, nbf: start },
      SECRET,
      {
        header: { alg: "HS256", typ: "at+jwt" },
      },
    );
    expect(await refusal(service, token)).toBe("accepted");
    clock.advance(-10_000);
    expect(await refusal(service, token)).toBe("jwt not active");
  });

  it("refuses a token signed with another key, or for another issuer or audience", async () => {
    const { accessToken } = await service.issueAccessToken(USER_ID, ["me"]);
    expect(await refusal(new TokenService(hsKeys(`${SECRET}-other`), SETTINGS, clock), accessToken)).toBe("invalid signature");
    expect(await refusal(new TokenService(hsKeys(SECRET), { ...SETTINGS, issuer: "someone-else" }, clock), accessToken)).toMatch(
      /jwt issuer invalid/,
    );
    expect(await refusal(new TokenService(hsKeys(SECRET), { ...SETTINGS, audience: "another-api" }, clock), accessToken)).toMatch(
      /jwt audience invalid/,
    );
  });

  it("refuses a token of another type before checking its signature", async () => {
    const plain = jwt.sign(
      { sub: USER_ID, scope: "me", jti: "j", iss: SETTINGS.issuer, aud: SETTINGS.audience, iat: start, exp: start + 60 },
      SECRET,
    );
    expect(decode(plain).header.typ).toBe("JWT");
    expect(await refusal(service, plain)).toBe("typ");
  });

  it("refuses a 100 kB token by its length, without parsing it", async () => {
    const huge = `${"a".repeat(50_000)}.${"b".repeat(50_000)}.c`;
    expect(await refusal(service, huge)).toBe("malformed");
  });

  it.each([
    ["a JSON array header", `${Buffer.from("[]").toString("base64url")}.e30.sig`, "header not an object"],
    ["a header that is not JSON", "bm90IGpzb24.e30.sig", "header not JSON"],
    ["base64 padding", "eyJhbGciOiJIUzI1NiJ9.e30=.sig", "malformed"],
    ["whitespace inside", "eyJ0eXAiOiJhdCtqd3QifQ. e30.sig", "malformed"],
  ])("refuses %s", async (_label, token, reason) => {
    expect(await refusal(service, token)).toBe(reason);
  });
});
