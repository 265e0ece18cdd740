/** CONTRACT section 4, the claims: what an access token must carry, and time (expiry, skew, iat, nbf). */
import jwt from "jsonwebtoken";
import { randomUUID } from "node:crypto";
import { DIALECTS, TEST_SECRET } from "../harness";
import { TEST_AUDIENCE, TEST_ISSUER, forgeToken, signJws, standardClaims, STANDARD_HEADER, useTokenFixture } from "../support";

describe.each(DIALECTS)("access token claims (%s)", (dialect) => {
  const fixture = useTokenFixture(dialect);
  const { clock, now, expectAccepted, expectInvalidToken } = fixture;

  it("accepts the token its own login issued, and one forged with exactly the same header and claims", async () => {
    await expectAccepted(await fixture.server.login(fixture.user.username, fixture.user.password));
    await expectAccepted(forgeToken(fixture.user.id, now()));
  });

  it("accepts a token minted elsewhere by jsonwebtoken with the same key and claims", async () => {
    const token = jwt.sign({ scope: "me items", jti: randomUUID(), iat: now() }, TEST_SECRET, {
      algorithm: "HS256",
      header: { alg: "HS256", typ: "at+jwt" },
      subject: fixture.user.id,
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      expiresIn: 600,
    });
    await expectAccepted(token);
  });

  it.each(["sub", "iss", "aud", "exp", "iat", "jti", "scope"])("refuses a token without the %s claim", async (claim) => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { [claim]: undefined } }));
  });

  it("refuses a wrong iss or aud, and an aud array without ours", async () => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { iss: "https://evil.example" } }));
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { aud: "another-api" } }));
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { aud: ["another-api", "third-api"] } }));
  });

  it("accepts an aud array that includes ours", async () => {
    await expectAccepted(forgeToken(fixture.user.id, now(), { claims: { aud: ["another-api", TEST_AUDIENCE] } }));
  });

  it.each([
    ["a username", "johndoe"],
    ["a number", 12345],
    ["an unknown UUID", randomUUID()],
    ["an empty string", ""],
  ])("refuses sub as %s", async (_label, sub) => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { sub } }));
  });

  it("refuses the token of a user deleted after it was issued", async () => {
    const doomed = await fixture.server.createUser({ prefix: "deleted" });
    const token = await fixture.server.login(doomed.username, doomed.password);
    await fixture.server.app.database.db.deleteFrom("users").where("id", "=", doomed.id).execute();
    const response = await fixture.server.gql("{ me { id } }", {}, { token });
    expect(response.body.errors?.[0]).toMatchObject({ message: "Could not validate credentials", extensions: { code: "UNAUTHENTICATED" } });
  });

  it("accepts an exp just inside the 5 s skew and refuses one just outside it", async () => {
    await expectAccepted(forgeToken(fixture.user.id, now(), { claims: { iat: now() - 600, exp: now() - 4 } }));
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { iat: now() - 600, exp: now() - 6 } }));
  });

  it("expires a token it issued once the clock passes exp plus the skew", async () => {
    const token = await fixture.server.login(fixture.user.username, fixture.user.password);
    clock.advance((30 * 60 + 4) * 1000);
    await expectAccepted(token);
    clock.advance(2000);
    await expectInvalidToken(token);
  });

  it.each([
    ["a string", '"9999999999"'],
    ["1e309 (Infinity once parsed)", "1e309"],
    ["negative", "-1"],
    ["a fraction", "4102444800.5"],
    ["null", "null"],
  ])("refuses exp as %s", async (_label, expJson) => {
    const claims = JSON.stringify({ ...standardClaims(fixture.user.id, now()), exp: "EXP" }).replace('"EXP"', expJson);
    await expectInvalidToken(signJws(STANDARD_HEADER, claims));
  });

  it("refuses an iat far in the future and accepts one within the skew", async () => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { iat: now() + 3600, exp: now() + 7200 } }));
    await expectAccepted(forgeToken(fixture.user.id, now(), { claims: { iat: now() + 3 } }));
  });

  it("refuses an nbf in the future and accepts one within the skew", async () => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { nbf: now() + 60 } }));
    await expectAccepted(forgeToken(fixture.user.id, now(), { claims: { nbf: now() + 3 } }));
  });

  it("refuses scope as an array, and reads a scope string with extra spaces the same as one with single spaces", async () => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { scope: ["me", "items"] } }));
    const spaced = forgeToken(fixture.user.id, now(), { claims: { scope: "  me   items " } });
    const response = await fixture.server.gql("{ myItems { owner } }", {}, { token: spaced });
    expect(response.body).toEqual({ data: { myItems: [{ owner: fixture.user.username }] } });
  });

  it("refuses a payload that is not a JSON object", async () => {
    for (const payload of ["[]", '"text"', "null", "42", "{not json"]) {
      await expectInvalidToken(signJws(STANDARD_HEADER, payload));
    }
  });

  it("reads duplicate claim names the one way JSON.parse does: the last value wins", async () => {
    const base = JSON.stringify(standardClaims(fixture.user.id, now())).slice(1);
    await expectAccepted(signJws(STANDARD_HEADER, `{"sub":"${randomUUID()}",${base}`));
    await expectInvalidToken(signJws(STANDARD_HEADER, `${JSON.stringify(standardClaims(fixture.user.id, now())).slice(0, -1)},"sub":"${randomUUID()}"}`));
  });
});
