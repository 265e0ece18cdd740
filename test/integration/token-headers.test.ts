/**
 * CONTRACT section 4, the envelope: algorithm, key, typ, forbidden header members, encoding, size
 * (ATTACKS J4, J6-J8, J13-J15, J20, J21, J23).
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import jwt from "jsonwebtoken";
import { DIALECTS, TEST_SECRET } from "../harness";
import { b64url, forgeToken, signJws, standardClaims, STANDARD_HEADER, useTokenFixture } from "../support";

/** The FastAPI tutorial's published example key (CONTRACT section 2), written out, not imported. */
const FASTAPI_TUTORIAL_KEY = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7";

describe.each(DIALECTS)("access token header and encoding (%s)", (dialect) => {
  const fixture = useTokenFixture(dialect);
  const { now, expectAccepted, expectInvalidToken } = fixture;

  it.each(["none", "None", "NONE", "nOnE"])("J4 refuses alg %s, with an empty signature or with an HMAC one", async (alg) => {
    const claims = standardClaims(fixture.user.id, now());
    await expectInvalidToken(`${b64url({ alg, typ: "at+jwt" })}.${b64url(claims)}.`);
    await expectInvalidToken(signJws({ alg, typ: "at+jwt" }, claims));
  });

  it.each([
    ["HS384", "sha384"],
    ["HS512", "sha512"],
  ] as const)("J6 refuses %s signed with the same secret", async (alg, hash) => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { header: { alg }, hash }));
  });

  it("J6 refuses an HS256 signature under an RS256 header, and RS256 signed with a key of the token's own", async () => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { header: { alg: "RS256" } }));
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const signer = { privateKey, alg: "RS256" } as const;
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { header: { alg: "RS256" }, signer }));
  });

  // J14's other half, production refusing the tutorial's key as SECRET_KEY: src/config.test.ts.
  it("J14 refuses a token signed with another key, the FastAPI tutorial's included", async () => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { key: randomBytes(32).toString("hex") }));
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { key: FASTAPI_TUTORIAL_KEY }));
  });

  it.each(["../../../../../dev/null", "../../../dev/null", "' OR 1=1--", "unknown-kid", "k".repeat(10_000)])(
    "J7 refuses the kid %s, signed with an empty key, with the kid itself or with ours",
    async (kid) => {
      // What a naive server would derive from such a kid: an empty key (a file read), the kid itself.
      for (const key of ["", kid, TEST_SECRET]) {
        await expectInvalidToken(forgeToken(fixture.user.id, now(), { header: { kid }, key }));
      }
    },
  );

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
    ["JWT, as jsonwebtoken writes it by default", "JWT"],
  ])("J13 refuses typ %s", async (_label, typ) => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { header: { typ } }));
  });

  it.each(["at+jwt", "application/at+jwt", "AT+JWT"])("J13 accepts typ %s", async (typ) => {
    await expectAccepted(forgeToken(fixture.user.id, now(), { header: { typ } }));
  });

  it("J15 refuses a JWT of another kind: jsonwebtoken's own header, an ID token's shape", async () => {
    await expectInvalidToken(jwt.sign(standardClaims(fixture.user.id, now()), TEST_SECRET, { algorithm: "HS256" }));
    const idToken = { header: { typ: "JWT" }, claims: { nonce: "n", azp: "client" } };
    await expectInvalidToken(forgeToken(fixture.user.id, now(), idToken));
  });

  it.each([
    ["crit", ["x-unknown"]],
    ["jku", "https://attacker.example/jwks.json"],
    ["jwk", { kty: "oct", k: b64url("attacker") }],
    ["x5u", "https://attacker.example/cert.pem"],
    ["x5c", ["MIIB"]],
  ])("J8/J23 refuses a %s header member, even on an otherwise valid token", async (member, value) => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { header: { [member]: value } }));
  });

  it("J23 refuses crit even when the member it names is present", async () => {
    await expectInvalidToken(forgeToken(fixture.user.id, now(), { header: { crit: ["x-unknown"], "x-unknown": 1 } }));
  });

  describe("J8 a key of the token's own choosing", () => {
    let attacker: Server;
    let hits = 0;
    let url = "";
    beforeAll(async () => {
      attacker = createServer((_request, response) => {
        hits += 1;
        response.end("{}");
      });
      await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
      const address = attacker.address();
      url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/jwks.json`;
    });
    afterAll(() => new Promise<void>((resolve) => attacker.close(() => resolve())));

    it("J8 refuses jku, x5u, jwk and x5c pointing at a live server, which is never asked", async () => {
      const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
      for (const member of [{ jku: url }, { x5u: url }, { jwk }, { x5c: ["MIIB"] }]) {
        await expectInvalidToken(forgeToken(fixture.user.id, now(), { header: member }));
      }
      expect(hits).toBe(0);
    });
  });

  describe("J21 malformed base64url and segments", () => {
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
      ["== padding", () => `${valid}==`],
      ["padding after the header", () => `${segments()[0]}=.${segments()[1]}.${segments()[2]}`],
      [
        "standard base64 + and / in the payload",
        () => {
          const [header, payload, signature] = segments();
          return `${header}.${payload.replace(/-/g, "+").replace(/_/g, "/")}+/.${signature}`;
        },
      ],
      ["a space after a dot", () => `${segments()[0]}. ${segments()[1]}.${segments()[2]}`],
      ["padding inside the payload", () => `${segments()[0]}.${segments()[1]}==.${segments()[2]}`],
      ["standard base64 + and /", () => `${segments()[0]}.${segments()[1]}.${segments()[2].replace(/-/g, "+").replace(/_/g, "/")}+/`],
      ["two segments", () => segments().slice(0, 2).join(".")],
      ["four segments", () => `${valid}.${segments()[2]}`],
      ["a trailing dot", () => `${valid}.`],
      ["empty segments", () => ".."],
      ["a header that is a JSON array", () => signJws("[]", standardClaims(fixture.user.id, now()))],
      ["a header that is a JSON array of numbers", () => signJws("[1,2,3]", standardClaims(fixture.user.id, now()))],
      ["a header that is not JSON", () => signJws("{alg:HS256", standardClaims(fixture.user.id, now()))],
      ["a header that is JSON null", () => signJws("null", standardClaims(fixture.user.id, now()))],
      ["non-base64 bytes", () => `${segments()[0]}.${segments()[1]}.${segments()[2]}%`],
      [
        "a 10 kB token (J20: under the header bound)",
        () => signJws(STANDARD_HEADER, { ...standardClaims(fixture.user.id, now()), pad: "x".repeat(10_000) }),
      ],
    ])("J21 refuses %s", async (_label, make) => {
      await expectInvalidToken(make());
    });
  });

  it.each([
    ["100 kB of text", () => "a".repeat(100_000)],
    [
      "a token of 10 000 claims",
      () => {
        const wall = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`c${i}`, i]));
        return forgeToken(fixture.user.id, now(), { claims: wall });
      },
    ],
  ])("J20 answers an Authorization header of %s (over 16 KB) with 431 and a JSON body, before verifying", async (_label, make) => {
    const response = await fetch(`${fixture.server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${make()}` },
      body: JSON.stringify({ query: "{ me { id } }" }),
    });
    expect(response.status).toBe(431);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ statusCode: 431 });
    expect(JSON.stringify(body)).not.toMatch(/\n\s+at /);
  });
});
