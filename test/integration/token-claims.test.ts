/**
 * CONTRACT section 4, the claims: what an access token must carry, and time (expiry, skew, iat, nbf);
 * ATTACKS J9-J12, J16, J19, J21, J22.
 */
import jwt from "jsonwebtoken";
import { randomUUID } from "node:crypto";
import { DIALECTS, TEST_SECRET } from "../harness";
import { TEST_AUDIENCE, TEST_ISSUER, forgeToken, signJws, standardClaims, STANDARD_HEADER, useTokenFixture } from "../support";

describe.each(DIALECTS)("access token claims (%s)", (dialect) => {
  const fixture = useTokenFixture(dialect);
  const { clock, now, expectAccepted, expectInvalidToken } = fixture;

  it("J11 (the control) accepts the token its own login issued, and one forged with exactly the same header and claims", async () => {
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

  it.each(["sub", "iss", "aud", "exp", "iat", "jti", "scope"])("J11 refuses a token without the %s claim", async (claim) => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { [claim]: undefined } }));
  });

  it("J12 refuses a wrong iss or aud, and an aud array without ours", async () => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { iss: "https://evil.example" } }));
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { aud: "another-api" } }));
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { aud: ["another-api", "third-api"] } }));
  });

  it("J12 accepts an aud array that includes ours", async () => {
    await expectAccepted(forgeToken(fixture.user.id, now(), { claims: { aud: ["another-api", TEST_AUDIENCE] } }));
  });

  it.each([
    ["a username", "johndoe"],
    ["a number", 12345],
    ["an unknown UUID", randomUUID()],
    ["an empty string", ""],
  ])("J16 refuses sub as %s", async (_label, sub) => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { sub } }));
  });

  it("J16 refuses the token of a user deleted after it was issued", async () => {
    const doomed = await fixture.server.createUser({ prefix: "deleted" });
    const token = await fixture.server.login(doomed.username, doomed.password);
    await fixture.server.app.database.db.deleteFrom("users").where("id", "=", doomed.id).execute();
    await expectInvalidToken(token);
  });

  it("J9 accepts an exp just inside the 5 s skew and refuses one just outside it", async () => {
    await expectAccepted(forgeToken(fixture.user.id, now(), { claims: { iat: now() - 600, exp: now() - 4 } }));
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { iat: now() - 600, exp: now() - 6 } }));
  });

  it("J9 expires a token it issued once the clock passes exp plus the skew", async () => {
    const token = await fixture.server.login(fixture.user.username, fixture.user.password);
    clock.advance((30 * 60 + 4) * 1000);
    await expectAccepted(token);
    clock.advance(2000);
    await expectInvalidToken(token);
  });

  it.each([
    ["a string", '"9999999999"'],
    ["a word", '"abc"'],
    ["1e309 (Infinity once parsed)", "1e309"],
    ["negative", "-1"],
    ["a fraction", "4102444800.5"],
    ["null", "null"],
  ])("J9 refuses exp as %s", async (_label, expJson) => {
    const claims = JSON.stringify({ ...standardClaims(fixture.user.id, now()), exp: "EXP" }).replace('"EXP"', expJson);
    await expectInvalidToken(signJws(STANDARD_HEADER, claims));
  });

  it("J10 refuses an iat far in the future and accepts one within the skew", async () => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { iat: now() + 3600, exp: now() + 7200 } }));
    await expectAccepted(forgeToken(fixture.user.id, now(), { claims: { iat: now() + 3 } }));
  });

  it("J10 refuses an nbf in the future and accepts one within the skew", async () => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { claims: { nbf: now() + 60 } }));
    await expectAccepted(forgeToken(fixture.user.id, now(), { claims: { nbf: now() + 3 } }));
  });

  it("J19 refuses scope as an array; reads white space runs as one space, every time; an empty scope grants nothing", async () => {
    const token = (scope: unknown) => forgeToken(fixture.user.id, now(), { claims: { scope } });
    for (let i = 0; i < 2; i++) {
      await expectInvalidToken(token(["me", "items"]));
      await expectInvalidToken(token(["me"]));
      await expectAccepted(token("me  items"));
      for (const scope of ["  me   items ", " items\tme "]) {
        const response = await fixture.server.gql("{ myItems { itemId owner } }", {}, { token: token(scope) });
        expect(response.body).toEqual({ data: { myItems: [{ itemId: "Foo", owner: fixture.user.username }] } });
      }
      const empty = await fixture.server.gql("{ me { id } }", {}, { token: token("") });
      expect(empty.body).toEqual({
        data: null,
        errors: [expect.objectContaining({ message: "Not enough permissions", extensions: { code: "FORBIDDEN" } })],
      });
      expect(empty.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", scope="me"');
    }
  });

  it("J21 refuses a payload that is not a JSON object", async () => {
    for (const payload of ["[]", '"text"', "null", "42", "{not json"]) {
      await expectInvalidToken(signJws(STANDARD_HEADER, payload));
    }
  });

  it("J22 reads duplicate claim names the one way JSON.parse does: the last value wins, every time", async () => {
    const base = JSON.stringify(standardClaims(fixture.user.id, now())).slice(1);
    const lastIsUser = signJws(STANDARD_HEADER, `{"sub":"${randomUUID()}",${base}`);
    const open = JSON.stringify(standardClaims(fixture.user.id, now())).slice(0, -1);
    const lastIsStranger = signJws(STANDARD_HEADER, `${open},"sub":"${randomUUID()}"}`);
    for (let i = 0; i < 2; i++) {
      await expectAccepted(lastIsUser);
      await expectInvalidToken(lastIsStranger);
    }
  });
});
