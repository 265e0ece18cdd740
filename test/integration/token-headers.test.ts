/** CONTRACT section 4, the envelope: algorithm, key, typ, forbidden header members, encoding, size. */
import { randomBytes } from "node:crypto";
import { DIALECTS } from "../harness";
import { b64url, forgeToken, signJws, standardClaims, STANDARD_HEADER, useTokenFixture } from "../support";

/** The FastAPI tutorial's published example key (CONTRACT section 2), written out, not imported. */
const FASTAPI_TUTORIAL_KEY = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7";

describe.each(DIALECTS)("access token header and encoding (%s)", (dialect) => {
  const fixture = useTokenFixture(dialect);
  const { now, expectAccepted, expectInvalidToken } = fixture;

  it.each(["none", "None", "NONE", "nOnE"])("refuses alg %s, with an empty signature or with an HMAC one", async (alg) => {
    const claims = standardClaims(fixture.user.id, now());
    await expectInvalidToken(`${b64url({ alg, typ: "at+jwt" })}.${b64url(claims)}.`);
    await expectInvalidToken(signJws({ alg, typ: "at+jwt" }, claims));
  });

  it.each([
    ["HS384", "sha384"],
    ["HS512", "sha512"],
  ] as const)("refuses %s signed with the same secret", async (alg, hash) => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { header: { alg }, hash }));
  });

  it("refuses an HS256 signature under an RS256 header", async () => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { header: { alg: "RS256" } }));
  });

  it("refuses a token signed with another key, the FastAPI tutorial's included", async () => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { key: randomBytes(32).toString("hex") }));
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { key: FASTAPI_TUTORIAL_KEY }));
  });

  it("refuses an empty-key signature whose kid points at /dev/null", async () => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { header: { kid: "../../../../../dev/null" }, key: "" }));
  });

  it("refuses a token whose payload was changed after signing", async () => {
    const token = await fixture.server.login(fixture.user.username, fixture.user.password, ["me"]);
    await expectAccepted(token);
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    await expectInvalidToken(`${header}.${b64url({ ...claims, scope: "me items" })}.${signature}`);
  });

  it.each([
    ["JWT", "JWT"],
    ["missing", undefined],
    ["application/jwt", "application/jwt"],
    ["empty", ""],
    ["a number", 1],
  ])("refuses typ %s", async (_label, typ) => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { header: { typ } }));
  });

  it.each(["at+jwt", "application/at+jwt", "AT+JWT"])("accepts typ %s", async (typ) => {
    await expectAccepted(forgeToken(fixture.user.id, now(), { header: { typ } }));
  });

  it.each([
    ["crit", ["x-unknown"]],
    ["jku", "https://attacker.example/jwks.json"],
    ["jwk", { kty: "oct", k: b64url("attacker") }],
    ["x5u", "https://attacker.example/cert.pem"],
    ["x5c", ["MIIB"]],
  ])("refuses a %s header member, even on an otherwise valid token", async (member, value) => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { header: { [member]: value } }));
  });

  describe("malformed base64url and segments", () => {
    let valid: string;
    beforeAll(() => {
      valid = forgeToken(fixture.user.id, now());
    });
    const segments = () => valid.split(".") as [string, string, string];

    it("accepts the untouched token (the control)", async () => {
      await expectAccepted(valid);
    });

    it.each([
      ["= padding", () => `${valid}=`],
      ["padding inside the payload", () => `${segments()[0]}.${segments()[1]}==.${segments()[2]}`],
      ["standard base64 + and /", () => `${segments()[0]}.${segments()[1]}.${segments()[2].replace(/-/g, "+").replace(/_/g, "/")}+/`],
      ["two segments", () => segments().slice(0, 2).join(".")],
      ["four segments", () => `${valid}.${segments()[2]}`],
      ["a trailing dot", () => `${valid}.`],
      ["empty segments", () => ".."],
      ["a header that is a JSON array", () => signJws("[]", standardClaims(fixture.user.id, now()))],
      ["a header that is not JSON", () => signJws("{alg:HS256", standardClaims(fixture.user.id, now()))],
      ["a header that is JSON null", () => signJws("null", standardClaims(fixture.user.id, now()))],
      ["non-base64 bytes", () => `${segments()[0]}.${segments()[1]}.${segments()[2]}%`],
      ["a 10 kB token", () => signJws(STANDARD_HEADER, { ...standardClaims(fixture.user.id, now()), pad: "x".repeat(10_000) })],
    ])("refuses %s", async (_label, make) => {
      await expectInvalidToken(make());
    });
  });

  it("answers a 100 kB Authorization header with 431 and a JSON body, before any verification", async () => {
    const response = await fetch(`${fixture.server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${"a".repeat(100_000)}` },
      body: JSON.stringify({ query: "{ me { id } }" }),
    });
    expect(response.status).toBe(431);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ statusCode: 431 });
    expect(JSON.stringify(body)).not.toMatch(/\n\s+at /);
  });
});
