/** ATTACKS.md, JWT lines: forged, malformed and misused bearer tokens on `{ me { id } }`. */
import { createServer, type Server } from "node:http";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import { FASTAPI_TUTORIAL_KEY, loadConfig } from "../../src/config";
import { DIALECTS, startTestServer, TEST_SECRET, type TestServer } from "../harness";
import { epochSeconds } from "../../src/clock";
import { b64url, expectInvalidToken, expectMe, ME, movableClock, rawGraphQL, signJws, standardClaims, STANDARD_HEADER } from "../support";

describe.each(DIALECTS)("JWT attacks (%s)", (dialect) => {
  let server: TestServer;
  let user: { id: string; username: string; password: string };
  const clock = movableClock();
  const me = (token: string) => server.gql(ME, {}, { token });
  const withHeader = (authorization: string) => server.gql(ME, {}, { headers: { authorization } });
  const accepted = async (token: string) => expectMe(await me(token), user.id);
  /** The claims the server issues, at the suite clock's time. */
  const claims = (sub: string, extra?: Record<string, unknown>) => standardClaims(sub, epochSeconds(clock), extra);

  beforeAll(async () => {
    server = await startTestServer({ dialect, clock });
    user = await server.createUser();
  });
  afterAll(async () => server?.close());

  it("J1 no header: Not authenticated, WWW-Authenticate: Bearer without an error attribute", async () => {
    const response = await server.gql(ME);
    expect(response.body.errors?.[0]).toMatchObject({ message: "Not authenticated", extensions: { code: "UNAUTHENTICATED" } });
    expect(response.headers.get("www-authenticate")).toBe("Bearer");
  });

  it("J2 Basic, empty Bearer, two credentials, two headers: invalid_token or J1, never a 5xx", async () => {
    const basic = await withHeader("Basic dXNlcjpwYXNz");
    expect(basic.body.errors?.[0]).toMatchObject({ message: "Not authenticated" });
    expectInvalidToken(await withHeader("Bearer"));
    expectInvalidToken(await withHeader("Bearer "));
    expectInvalidToken(await withHeader("Bearer a b"));
    const token = await server.login(user.username, user.password);
    const twice = await rawGraphQL(server.url, [`Bearer ${token}`, `Bearer ${token}`]);
    expect(twice.status).toBeLessThan(500);
    expect(twice.body.errors[0]).toMatchObject({ message: "Could not validate credentials", extensions: { code: "UNAUTHENTICATED" } });
    expect(twice.headers["www-authenticate"]).toBe('Bearer error="invalid_token"');
  });

  it("J3 the scheme written bearer or BEARER is accepted", async () => {
    const token = await server.login(user.username, user.password);
    for (const scheme of ["bearer", "BEARER", "BeArEr"]) {
      const response = await withHeader(`${scheme} ${token}`);
      expect(response.body.data?.me.id).toBe(user.id);
    }
  });

  it("J4 alg none in any case, with an empty signature: invalid_token", async () => {
    for (const alg of ["none", "None", "NONE", "nOnE"]) {
      const token = `${b64url(JSON.stringify({ alg, typ: "at+jwt" }))}.${b64url(JSON.stringify(claims(user.id)))}.`;
      expectInvalidToken(await me(token));
    }
  });

  it("J6 HS384 and HS512 with the same secret, and RS256, against the pinned HS256: invalid_token", async () => {
    expectInvalidToken(await me(signJws({ alg: "HS384", typ: "at+jwt" }, claims(user.id), { hash: "sha384" })));
    expectInvalidToken(await me(signJws({ alg: "HS512", typ: "at+jwt" }, claims(user.id), { hash: "sha512" })));
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const rs = jwt.sign(claims(user.id), privateKey, { algorithm: "RS256", header: { alg: "RS256", typ: "at+jwt" } });
    expectInvalidToken(await me(rs));
  });

  it("J7 hostile kid values: invalid_token, no file read, no SQL, no 5xx", async () => {
    for (const kid of ["../../../dev/null", "' OR 1=1--", "unknown-kid"]) {
      // Signed with what a naive server would derive from such a kid: an empty key, the kid itself.
      expectInvalidToken(await me(signJws({ ...STANDARD_HEADER, kid }, claims(user.id), { key: "" })));
      expectInvalidToken(await me(signJws({ ...STANDARD_HEADER, kid }, claims(user.id), { key: kid })));
    }
    expectInvalidToken(await me(signJws({ ...STANDARD_HEADER, kid: "k".repeat(10_000) }, claims(user.id))));
  });

  describe("J8 jku, x5u, jwk, x5c", () => {
    let attacker: Server;
    let hits = 0;
    beforeAll(async () => {
      attacker = createServer((_req, res) => {
        hits += 1;
        res.end("{}");
      });
      await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    });
    afterAll(() => new Promise<void>((resolve) => attacker.close(() => resolve())));

    it("J8 a key of the token's own choosing: invalid_token and no outbound request", async () => {
      const address = attacker.address();
      const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/jwks.json`;
      const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const jwk = publicKey.export({ format: "jwk" });
      for (const extra of [{ jku: url }, { x5u: url }, { jwk }, { x5c: ["MIIB"] }]) {
        expectInvalidToken(await me(signJws({ ...STANDARD_HEADER, ...extra }, claims(user.id))));
      }
      expect(hits).toBe(0);
    });
  });

  it("J9 exp just past the 5 s leeway refused, just inside accepted; malformed exp refused", async () => {
    const now = Math.floor(clock.now() / 1000);
    expectInvalidToken(await me(signJws(STANDARD_HEADER, claims(user.id, { iat: now - 100, exp: now - 6 }))));
    await accepted(signJws(STANDARD_HEADER, claims(user.id, { iat: now - 100, exp: now - 3 })));
    for (const exp of ["abc", 1e309, -1, String(now + 100), now + 100.5]) {
      const payload = JSON.stringify(claims(user.id)).replace(/"exp":\d+/, `"exp":${typeof exp === "string" ? JSON.stringify(exp) : exp === 1e309 ? "1e309" : exp}`);
      expectInvalidToken(await me(signJws(STANDARD_HEADER, payload)));
    }
  });

  it("J10 nbf in the future, or iat far in the future: invalid_token", async () => {
    const now = Math.floor(clock.now() / 1000);
    expectInvalidToken(await me(signJws(STANDARD_HEADER, claims(user.id, { nbf: now + 60 }))));
    expectInvalidToken(await me(signJws(STANDARD_HEADER, claims(user.id, { iat: now + 3600, exp: now + 7200 }))));
  });

  it("J11 each required claim missing in turn: invalid_token", async () => {
    await accepted(signJws(STANDARD_HEADER, claims(user.id)));
    for (const name of ["sub", "iss", "aud", "exp", "iat", "jti", "scope"]) {
      const payload = claims(user.id);
      delete payload[name];
      expectInvalidToken(await me(signJws(STANDARD_HEADER, payload)));
    }
  });

  it("J12 wrong iss, wrong aud, aud array without ours: invalid_token; aud array with ours: accepted", async () => {
    expectInvalidToken(await me(signJws(STANDARD_HEADER, claims(user.id, { iss: "someone-else" }))));
    expectInvalidToken(await me(signJws(STANDARD_HEADER, claims(user.id, { aud: "other-api" }))));
    expectInvalidToken(await me(signJws(STANDARD_HEADER, claims(user.id, { aud: ["a", "b"] }))));
    await accepted(signJws(STANDARD_HEADER, claims(user.id, { aud: ["other-api", "graphql-api"] })));
  });

  it("J13 typ JWT, missing or application/jwt refused; at+jwt and application/at+jwt accepted", async () => {
    for (const typ of ["JWT", undefined, "application/jwt"]) expectInvalidToken(await me(signJws({ alg: "HS256", typ }, claims(user.id))));
    await accepted(signJws({ alg: "HS256", typ: "at+jwt" }, claims(user.id)));
    await accepted(signJws({ alg: "HS256", typ: "application/at+jwt" }, claims(user.id)));
  });

  it("J14 another secret, the FastAPI tutorial's key included: invalid_token; production refuses that key", async () => {
    expectInvalidToken(await me(signJws(STANDARD_HEADER, claims(user.id), { key: "another-secret-that-is-long-enough-32b" })));
    expectInvalidToken(await me(signJws(STANDARD_HEADER, claims(user.id), { key: FASTAPI_TUTORIAL_KEY })));
    expect(() => loadConfig({ NODE_ENV: "production", SECRET_KEY: FASTAPI_TUTORIAL_KEY })).toThrow(/SECRET_KEY/);
  });

  it("J15 a JWT of another kind (no typ, typ JWT, an ID-token shape) presented as an access token: invalid_token", async () => {
    expectInvalidToken(await me(jwt.sign(claims(user.id), TEST_SECRET, { algorithm: "HS256" })));
    expectInvalidToken(await me(signJws({ alg: "HS256", typ: "JWT" }, { ...claims(user.id), nonce: "n", azp: "client" })));
  });

  it("J16 sub of a deleted user, a non-UUID sub, a numeric sub: invalid_token", async () => {
    const doomed = await server.createUser({ prefix: "doomed" });
    const token = await server.login(doomed.username, doomed.password);
    await server.app.database.db.deleteFrom("users").where("id", "=", doomed.id).execute();
    expectInvalidToken(await me(token));
    expectInvalidToken(await me(signJws(STANDARD_HEADER, claims("not-a-uuid"))));
    expectInvalidToken(await me(signJws(STANDARD_HEADER, claims(user.id, { sub: 12345 }))));
    expectInvalidToken(await me(signJws(STANDARD_HEADER, claims(randomUUID()))));
  });

  it("J17 a user disabled after issue: Inactive user on me, status still ok", async () => {
    const later = await server.createUser({ prefix: "later" });
    const token = await server.login(later.username, later.password);
    await server.app.users.setDisabled(later.username, true);
    const response = await me(token);
    expect(response.body.errors?.[0]).toMatchObject({ message: "Inactive user", extensions: { code: "FORBIDDEN" } });
    const status = await server.gql("{ status }", {}, { token });
    expect(status.body).toEqual({ data: { status: "ok" } });
  });

  it("J19 scope me on myItems: Not enough permissions with insufficient_scope; odd scope claims parsed alike", async () => {
    const token = await server.login(user.username, user.password, ["me"]);
    const response = await server.gql("{ myItems { itemId } }", {}, { token });
    expect(response.body.errors?.[0]).toMatchObject({ message: "Not enough permissions", extensions: { code: "FORBIDDEN" } });
    expect(response.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", scope="me items"');
    for (let i = 0; i < 2; i++) {
      await accepted(signJws(STANDARD_HEADER, claims(user.id, { scope: "me  items" })));
      const items = await server.gql("{ myItems { itemId } }", {}, { token: signJws(STANDARD_HEADER, claims(user.id, { scope: " items\tme " })) });
      expect(items.body.data?.myItems).toEqual([{ itemId: "Foo" }]);
      expectInvalidToken(await me(signJws(STANDARD_HEADER, claims(user.id, { scope: ["me"] }))));
      const empty = await me(signJws(STANDARD_HEADER, claims(user.id, { scope: "" })));
      expect(empty.body.errors?.[0]).toMatchObject({ message: "Not enough permissions", extensions: { code: "FORBIDDEN" } });
    }
  });

  it("J20 a header over 16 KB: 431; a 12 kB token: a fast invalid_token", async () => {
    const huge = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${"a".repeat(100_000)}` },
      body: JSON.stringify({ query: ME }),
    });
    // Node refuses the request line and headers together beyond 16 KB, with a JSON body and no stack.
    expect(huge.status).toBe(431);
    expect(await huge.json()).toMatchObject({ statusCode: 431 });
    const claimsWall = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`c${i}`, i]));
    const wall = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${signJws(STANDARD_HEADER, { ...claims(user.id), ...claimsWall })}` },
      body: JSON.stringify({ query: ME }),
    });
    expect(wall.status).toBe(431);
    expect(await wall.json()).toMatchObject({ statusCode: 431 });
    expectInvalidToken(await me(signJws(STANDARD_HEADER, claims(user.id, { pad: "x".repeat(9000) }))));
  });

  it("J21 malformed base64url and shapes: invalid_token", async () => {
    const good = signJws(STANDARD_HEADER, claims(user.id));
    const [h, p, s] = good.split(".") as [string, string, string];
    const variants = [
      `${h}=.${p}.${s}`,
      `${h}.${p}.${s}==`,
      `${h}.${p.replace(/-/g, "+").replace(/_/g, "/")}+/.${s}`,
      `${h}.${p}`,
      `${h}.${p}.${s}.extra`,
      `${good}.`,
      `${h}. ${p}.${s}`,
      signJws("[1,2,3]", claims(user.id)),
      signJws("not json", claims(user.id)),
      signJws(STANDARD_HEADER, "[]"),
      signJws(STANDARD_HEADER, "null"),
    ];
    for (const token of variants) {
      const response = await withHeader(`Bearer ${token}`);
      expectInvalidToken(response);
    }
  });

  it("J22 duplicate claim names: the last value wins, every time", async () => {
    const base = JSON.stringify(claims(user.id, { sub: undefined })).slice(0, -1);
    const lastIsUser = `${base},"sub":"${randomUUID()}","sub":"${user.id}"}`;
    const lastIsStranger = `${base},"sub":"${user.id}","sub":"${randomUUID()}"}`;
    for (let i = 0; i < 2; i++) {
      await accepted(signJws(STANDARD_HEADER, lastIsUser));
      expectInvalidToken(await me(signJws(STANDARD_HEADER, lastIsStranger)));
    }
  });

  it("J23 crit: invalid_token", async () => {
    expectInvalidToken(await me(signJws({ ...STANDARD_HEADER, crit: ["x-unknown"], "x-unknown": 1 }, claims(user.id))));
  });
});
