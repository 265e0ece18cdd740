/** ATTACKS.md L1: a run at LOG_LEVEL=debug through every path, then the whole log searched for secrets. */
import bcrypt from "bcryptjs";
import { capturingLogger, startTestServer, TEST_SECRET, uniqueName, type TestServer } from "../harness";
import { epochSeconds } from "../../src/clock";
import { movableClock, signJws, standardClaims, STANDARD_HEADER } from "../support";

const LOGIN = "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";

describe("logs", () => {
  const log = capturingLogger("debug");
  const clock = movableClock();
  const secrets: string[] = [TEST_SECRET];
  let development: TestServer;
  let production: TestServer;

  beforeAll(async () => {
    development = await startTestServer({ logger: log.logger, clock, env: { NODE_ENV: "development", LOG_LEVEL: "debug" } });
    production = await startTestServer({ logger: log.logger, clock, env: { NODE_ENV: "production", LOG_LEVEL: "debug" } });
  });
  afterAll(async () => {
    await development?.close();
    await production?.close();
  });

  it("L1 no password, hash, token or secret key in any log line", async () => {
    for (const server of [development, production]) {
      const legacyPassword = `legacy-${uniqueName("pw")}`;
      const legacy = await server.createUser({ passwordHash: bcrypt.hashSync(legacyPassword, 4), password: legacyPassword });
      const current = await server.createUser();
      secrets.push(legacyPassword, current.password);

      // Success with a legacy hash (the upgrade is logged), then with the argon2id one.
      const token = await server.login(legacy.username, legacyPassword);
      secrets.push(token, await server.login(current.username, current.password));
      // Failures up to the limit, an unknown user, a malformed stored hash (a warning is logged).
      for (let i = 0; i < 6; i++) await server.gql(LOGIN, { u: current.username, p: `wrong-password-${i}` });
      secrets.push(...Array.from({ length: 6 }, (_, i) => `wrong-password-${i}`));
      await server.gql(LOGIN, { u: uniqueName("nobody"), p: "unknown-user-password" });
      const broken = await server.createUser({ passwordHash: "$argon2id$v=19$m=65536,t=3,p=4$$" });
      await server.gql(LOGIN, { u: broken.username, p: broken.password });
      secrets.push("unknown-user-password", broken.password);

      // Refresh tokens: rotated, replayed, logged out, and through POST /token.
      const pair = (
        await server.gql("mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { refreshToken } }", {
          u: legacy.username,
          p: legacyPassword,
        })
      ).body.data.login;
      const rotated = (await server.gql("mutation ($t: String!) { refresh(refreshToken: $t) { refreshToken } }", { t: pair.refreshToken }))
        .body.data.refresh;
      await server.gql("mutation ($t: String!) { refresh(refreshToken: $t) { refreshToken } }", { t: pair.refreshToken });
      const form = await fetch(`${server.url}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "password", username: legacy.username, password: legacyPassword }).toString(),
      });
      const granted = (await form.json()) as { access_token: string; refresh_token: string };
      await fetch(`${server.url}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: `${granted.refresh_token}x` }).toString(),
      });
      await server.gql("mutation ($t: String!) { logout(refreshToken: $t, everywhere: false) }", { t: granted.refresh_token });
      expect([pair.refreshToken, rotated.refreshToken, granted.refresh_token, granted.access_token]).toEqual(
        Array(4).fill(expect.any(String)),
      );
      secrets.push(pair.refreshToken, rotated.refreshToken, granted.refresh_token, granted.access_token);

      // Tokens: valid, forged, in the header, in a cookie, in the query string.
      const forged = signJws(STANDARD_HEADER, standardClaims(legacy.id, epochSeconds(clock), { aud: "elsewhere" }));
      secrets.push(forged);
      await server.gql("{ me { id } }", {}, { token });
      await server.gql("{ me { id } }", {}, { headers: { authorization: `Bearer ${forged}`, cookie: `session=${token}` } });
      await fetch(`${server.url}/graphql?query=${encodeURIComponent("{ status }")}&access_token=${token}`, {
        headers: { "apollo-require-preflight": "1" },
      });
      // A password inside a query that does not parse, and inside malformed JSON.
      await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: `mutation { login(username: "x", password: "${current.password}" ` }),
      });
      await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: `{"query": "${current.password}`,
      });

      // An unexpected failure, logged with its error.
      await server.app.database.db.schema.alterTable("users").renameTo("users_away").execute();
      await server.gql("{ me { id } }", {}, { token });
      await server.gql(LOGIN, { u: current.username, p: current.password });
      await server.app.database.db.schema.alterTable("users_away").renameTo("users").execute();
    }

    const text = log.lines();
    // The run did log: requests, warnings and the unexpected errors.
    expect(text).toMatch(/"msg":"request completed"/);
    expect(text).toMatch(/stored password hash refused/);
    expect(text).toMatch(/password hash upgraded/);
    expect(text).toMatch(/unexpected error in a GraphQL request/);
    for (const needle of [...secrets, "$argon2", "$2b$", "$2a$", "pbkdf2_", "eyJ"]) {
      expect({ needle, found: text.includes(needle) }).toEqual({ needle, found: false });
    }
  });
});
