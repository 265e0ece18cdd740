/** ATTACKS.md, login and password lines (P1-P17 where the feature exists). */
import bcrypt from "bcryptjs";
import { capturingLogger, DIALECTS, startTestServer, uniqueName, type GraphQLResponse, type TestServer } from "../harness";
import { LEGACY_VECTORS } from "../legacy-vectors";
import { expectIncorrectCredentials, expectMe, ME } from "../support";

const CURRENT = /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/;
const LOGIN = "mutation ($u: String!, $p: String!, $s: [String!]) { login(username: $u, password: $p, scopes: $s) { accessToken scope } }";

describe.each(DIALECTS)("login attacks (%s)", (dialect) => {
  let server: TestServer;
  const log = capturingLogger("debug");
  const login = (u: string, p: unknown, s?: unknown, headers?: Record<string, string>) => server.gql(LOGIN, { u, p, s }, { headers });
  const storedHash = async (id: string) =>
    (await server.app.database.db.selectFrom("users").select("password_hash").where("id", "=", id).executeTakeFirstOrThrow()).password_hash;
  /** How many password computations a request cost, from the worker pool's own count. */
  const computations = async (request: () => Promise<unknown>) => {
    const before = server.app.passwords.completedTasks;
    await request();
    return server.app.passwords.completedTasks - before;
  };

  /** The login succeeded with every scope, and its token answers `me` as this user. */
  const expectLoggedIn = async (response: GraphQLResponse, user: { id: string }) => {
    expect(response.body).toEqual({ data: { login: { accessToken: expect.any(String), scope: "me items" } } });
    expectMe(await server.gql(ME, {}, { token: response.body.data.login.accessToken }), user.id);
  };

  beforeAll(async () => {
    // A budget high enough that this suite's many deliberate failures never meet the limiter.
    server = await startTestServer({ dialect, logger: log.logger, env: { LOGIN_MAX_FAILURES: "1000" } });
  });
  afterAll(async () => server?.close());

  it("P1 unknown user and wrong password: same code, message, status and headers, both after one verification", async () => {
    const user = await server.createUser();
    let unknown: GraphQLResponse | undefined;
    let wrongPassword: GraphQLResponse | undefined;
    expect(await computations(async () => void (unknown = await login(uniqueName("nobody"), "some-password")))).toBe(1);
    expect(await computations(async () => void (wrongPassword = await login(user.username, "some-password")))).toBe(1);
    expectIncorrectCredentials(unknown!);
    expect(unknown!.body).toEqual(wrongPassword!.body);
    const headers = (r: GraphQLResponse) => [...r.headers.entries()].filter(([name]) => !["date", "content-length"].includes(name));
    expect(headers(unknown!)).toEqual(headers(wrongPassword!));
  });

  it("P2 disabled user: a wrong password gets the ordinary answer, the right one Inactive user", async () => {
    const user = await server.createUser({ disabled: true });
    expectIncorrectCredentials(await login(user.username, "not-the-password"));
    const right = await login(user.username, user.password);
    expect(right.body.errors?.[0]).toMatchObject({ message: "Inactive user", extensions: { code: "FORBIDDEN" } });
  });

  it("P4 username variants: case, surrounding spaces and fullwidth forms match; dotless and dotted i do not fold", async () => {
    const user = await server.createUser({ prefix: "case" });
    const fullwidth = user.username.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    for (const variant of [user.username.toUpperCase(), `${user.username} `, ` ${user.username}`, fullwidth]) {
      expect((await login(variant, user.password)).body.data?.login.accessToken).toEqual(expect.any(String));
    }
    const dotted = await server.createUser({ prefix: "kiwi" });
    expectIncorrectCredentials(await login(dotted.username.replace("i", "ı"), dotted.password));
    expectIncorrectCredentials(await login(dotted.username.replace("i", "İ"), dotted.password));
  });

  it("P5 a password over 72 bytes against a legacy bcrypt hash verifies as bcrypt did, then all of it counts", async () => {
    const password = `${"a".repeat(72)}-and-the-rest`;
    const user = await server.createUser({ passwordHash: bcrypt.hashSync(password, 4) });
    // bcrypt saw only the first 72 bytes: the source system accepted this too.
    await expectLoggedIn(await login(user.username, `${"a".repeat(72)}-another-tail`), user);
    expect(await storedHash(user.id)).toMatch(CURRENT);
    // Re-hashed as typed: now the whole password counts.
    expectIncorrectCredentials(await login(user.username, password));
    await expectLoggedIn(await login(user.username, `${"a".repeat(72)}-another-tail`), user);
  });

  it("P6 a multibyte password crossing 72 bytes (pyca/bcrypt's vector): the P5 rule, in UTF-8 bytes", async () => {
    // 25 x U+20AC: 75 bytes, of which bcrypt saw 72 (24 euros); also_verifies differs only after byte 72.
    const { password, hash, also_verifies } = LEGACY_VECTORS.find((v) => v.id === "bcrypt-2b-6")!;
    expect(password).toBe("€".repeat(25));
    const sameFirst72 = also_verifies![0]!;
    const user = await server.createUser({ passwordHash: hash });
    expectIncorrectCredentials(await login(user.username, "€".repeat(23)));
    await expectLoggedIn(await login(user.username, sameFirst72), user);
    // The upgrade hashed what was typed, in full: now only that exact password works.
    expect(await storedHash(user.id)).toMatch(CURRENT);
    await expectLoggedIn(await login(user.username, sameFirst72), user);
    expectIncorrectCredentials(await login(user.username, password));
  });

  it("P7 a password set as é (U+00E9) logs in as e + U+0301", async () => {
    const user = await server.createUser({ password: "caf\u00e9-password" });
    await expectLoggedIn(await login(user.username, "cafe\u0301-password"), user);
  });

  it("P8 a 1 MB password: 413 before any hashing; over 1024 characters: the generic failure", async () => {
    const user = await server.createUser();
    const huge = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: LOGIN, variables: { u: user.username, p: "x".repeat(1024 * 1024) } }),
    });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    expect(
      await computations(async () => expectIncorrectCredentials(await login(user.username, `${user.password}${"x".repeat(1025)}`))),
    ).toBe(1);
  });

  it("P9 empty, blank, NUL passwords and empty, NULL or unusable stored hashes: the generic failure after a dummy hash", async () => {
    const user = await server.createUser();
    for (const password of ["", "   ", "\t\n", `${user.password}\u0000`, "\u0000"]) {
      expect(await computations(async () => expectIncorrectCredentials(await login(user.username, password)))).toBe(1);
    }
    for (const stored of ["", "!", "!unusable-django-marker"]) {
      const holder = await server.createUser({ passwordHash: stored });
      for (const password of ["", "!", stored, "anything"]) {
        expect(await computations(async () => expectIncorrectCredentials(await login(holder.username, password)))).toBe(1);
      }
    }
    const nullHash = await server.createUser();
    await server.app.database.db.updateTable("users").set({ password_hash: null }).where("id", "=", nullHash.id).execute();
    expect(await computations(async () => expectIncorrectCredentials(await login(nullHash.username, "")))).toBe(1);
  });

  it("P10 password as an Int, a list or null: 400 validation error, not counted as an attempt", async () => {
    const user = await server.createUser();
    for (const p of [12345, ["a", "b"], null]) {
      let response: GraphQLResponse | undefined;
      expect(await computations(async () => void (response = await login(user.username, p)))).toBe(0);
      expect(response!.status).toBe(400);
      expect(response!.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    }
    const counted = await server.app.database.db
      .selectFrom("login_attempts")
      .selectAll()
      .where("key", "=", `user:${user.username.toLowerCase()}`)
      .executeTakeFirst();
    expect(counted).toBeUndefined();
  });

  it("P11 an unknown scope names it; [] grants nothing; duplicates and a joined string are normalised", async () => {
    const user = await server.createUser();
    const admin = await login(user.username, user.password, ["admin"]);
    expect(admin.body.errors?.[0]).toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
    expect(admin.body.errors?.[0]?.message).toContain("admin");
    expect((await login(user.username, user.password, [])).body.data?.login.scope).toBe("");
    for (let i = 0; i < 2; i++) {
      expect((await login(user.username, user.password, ["me", "me", "items"])).body.data?.login.scope).toBe("me items");
      expect((await login(user.username, user.password, ["me items"])).body.data?.login.scope).toBe("me items");
    }
  });

  it("P12 a garbage Authorization header does not stop login", async () => {
    const user = await server.createUser();
    for (const authorization of ["Bearer garbage", "Bearer eyJhbGciOiJub25lIn0.e30.", "Basic Zm9vOmJhcg==", "Bearer a b c"]) {
      expect((await login(user.username, user.password, undefined, { authorization })).body.data?.login.accessToken).toEqual(
        expect.any(String),
      );
    }
  });

  it("P14 hostile stored hash parameters: refused without being computed", async () => {
    const hostile = [
      `$2b$31$${"a".repeat(53)}`,
      "$argon2id$v=19$m=4194304,t=4294967295,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
      "pbkdf2_sha256$2147483647$salt$aGFzaA==",
      "pbkdf2_sha256$2147483647$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=",
      "$scrypt$ln=30,r=8,p=1$c2FsdA$aGFzaA",
    ];
    for (const stored of hostile) {
      const user = await server.createUser({ passwordHash: stored });
      // One computation: the dummy verification at the current policy, never the stored cost.
      expect(await computations(async () => expectIncorrectCredentials(await login(user.username, user.password)))).toBe(1);
    }
  });

  it("P15 malformed stored hashes: the generic failure, and a warning that names no hash", async () => {
    for (const stored of ["$2b$10$short", "$argon2id$v=19$m=65536,t=3,p=4$$", "$unknown$prefix$value"]) {
      const user = await server.createUser({ passwordHash: stored });
      expectIncorrectCredentials(await login(user.username, user.password));
      const warning = log
        .lines()
        .split("\n")
        .filter((line) => line.includes(user.id) && line.includes("stored password hash refused"));
      expect(warning).toHaveLength(1);
      expect(warning[0]).not.toContain(stored);
    }
  });
  // P16 and P17 on every vector of the fixture (verify, upgrade once, a failed login never writes):
  // test/integration/legacy-hash-login.test.ts.
});

describe.each(DIALECTS)("P17 a changed ARGON2 policy (%s)", (dialect) => {
  it("P17 re-hashes at the next login under the new policy", async () => {
    const first = await startTestServer({ dialect });
    try {
      const user = await first.createUser();
      const second = await startTestServer({ dialect, databaseUrl: first.database.url, env: { ARGON2_TIME_COST: "2" } });
      try {
        await second.login(user.username, user.password);
        const row = await second.app.database.db
          .selectFrom("users")
          .select("password_hash")
          .where("id", "=", user.id)
          .executeTakeFirstOrThrow();
        expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=2,p=1\$/);
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
  });
});
