/** The admin API over HTTP on both databases (CONTRACT section 12): scope admin, pages, search, each mutation. */
import { randomBytes } from "node:crypto";
import { setUserDisabled } from "../../src/auth/user-revocation";
import { loginPair, refreshMutation } from "../support";
import { capturingLogger, DIALECTS, startTestServer, type GraphQLResponse, type TestServer, type TestUser } from "../harness";
import { expectInvalidToken, expectRateLimited } from "../support";

const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";

/** Letters only, so that every database orders these names alike. */
function letters(n = 8): string {
  return [...randomBytes(n)].map((b) => String.fromCharCode(97 + (b % 26))).join("");
}

describe.each(DIALECTS)("admin API (%s)", (dialect) => {
  let server: TestServer;
  let admin: TestUser;
  let adminToken: string;
  const log = capturingLogger("debug");
  /** Every password and token this file sends, searched for in the logs at the end. */
  const secrets: string[] = [];
  beforeAll(async () => {
    server = await startTestServer({ dialect, logger: log.logger });
    admin = await server.createUser({ prefix: "admin", scopes: ["me", "admin"] });
    adminToken = await server.login(admin.username, admin.password);
    secrets.push(admin.password, adminToken);
  });
  afterAll(async () => server?.close());

  const asAdmin = (query: string, variables: Record<string, unknown> = {}) => server.gql(query, variables, { token: adminToken });
  const firstError = (response: GraphQLResponse) => {
    const error = response.body.errors?.[0];
    return error && { code: error.extensions?.code, message: error.message };
  };
  const UNKNOWN_USER = { code: "BAD_USER_INPUT", message: "Unknown user" };
  const OWN_ACCOUNT = { code: "BAD_USER_INPUT", message: "You cannot do that to your own account" };

  const USER_FIELDS = "id username email fullName disabled scopes";
  const userById = async (id: string) => (await asAdmin(`query($id: ID!) { user(id: $id) { ${USER_FIELDS} } }`, { id })).body;

  /** Every admin field, each as one operation on `id`. */
  const operations = (id: string): Array<[string, string, Record<string, unknown>]> => [
    ["users", "{ users { totalCount } }", {}],
    ["user", "query($id: ID!) { user(id: $id) { id } }", { id }],
    ["createUser", 'mutation { createUser(input: { username: "' + `made_${letters()}` + '" }) { id } }', {}],
    ["updateUser", 'mutation($id: ID!) { updateUser(id: $id, input: { fullName: "Changed" }) { id } }', { id }],
    ["deleteUser", "mutation($id: ID!) { deleteUser(id: $id) }", { id }],
    ["revokeUserSessions", "mutation($id: ID!) { revokeUserSessions(id: $id) }", { id }],
    ["unlockUser", "mutation($id: ID!) { unlockUser(id: $id) }", { id }],
  ];

  describe("who may call", () => {
    it("each admin field refuses no token, a token without admin, a disabled admin; the target stays", async () => {
      const target = await server.createUser({ prefix: "target" });
      const plain = await server.createUser({ prefix: "plain" });
      const plainToken = await server.login(plain.username, plain.password);
      // An account that holds admin, with a token that was not granted it.
      const narrowToken = await server.login(admin.username, admin.password, ["me"]);
      const lapsed = await server.createUser({ prefix: "lapsed", scopes: ["me", "admin"] });
      const lapsedToken = await server.login(lapsed.username, lapsed.password);
      await setUserDisabled(server.app.auth, lapsed.username, true);

      const callers: Array<[string, string | undefined, { code: string; message: string }]> = [
        ["no token", undefined, { code: "UNAUTHENTICATED", message: "Not authenticated" }],
        ["scopes me items", plainToken, { code: "FORBIDDEN", message: "Not enough permissions" }],
        ["admin account, token without admin", narrowToken, { code: "FORBIDDEN", message: "Not enough permissions" }],
        ["disabled admin", lapsedToken, { code: "FORBIDDEN", message: "Inactive user" }],
      ];
      for (const [caller, token, expected] of callers) {
        for (const [field, query, variables] of operations(target.id)) {
          const response = await server.gql(query, variables, token === undefined ? {} : { token });
          expect({ caller, field, error: firstError(response), data: response.body.data ?? null }).toEqual({
            caller,
            field,
            error: expected,
            // user is nullable: the error nulls that field only.
            data: field === "user" ? { user: null } : null,
          });
        }
      }
      expect((await userById(target.id)).data.user).toMatchObject({
        id: target.id,
        fullName: `Test ${target.username}`,
      });
      expect(await server.app.users.findUserByUsername(lapsed.username)).toMatchObject({ disabled: true });
    });

    it("an unknown or malformed id: user is null, every mutation answers Unknown user", async () => {
      for (const id of [UNKNOWN_ID, "not-a-uuid", `${UNKNOWN_ID}\u0000`]) {
        expect(await userById(id)).toEqual({ data: { user: null } });
        for (const [field, query, variables] of operations(id).filter(([f]) => !["users", "user", "createUser"].includes(f))) {
          const response = await asAdmin(query, variables);
          expect({ field, error: firstError(response), data: response.body.data }).toEqual({
            field,
            error: UNKNOWN_USER,
            data: null,
          });
        }
      }
    });

    it("an admin cannot disable or delete their own account or drop admin from it; other changes work", async () => {
      const self = admin.id;
      const update = (input: string) =>
        asAdmin(`mutation($id: ID!) { updateUser(id: $id, input: ${input}) { ${USER_FIELDS} } }`, { id: self });
      expect(firstError(await update("{ disabled: true }"))).toEqual(OWN_ACCOUNT);
      expect(firstError(await update('{ scopes: ["me"] }'))).toEqual(OWN_ACCOUNT);
      expect(firstError(await update('{ scopes: [], fullName: "Still Me" }'))).toEqual(OWN_ACCOUNT);
      expect(firstError(await asAdmin("mutation($id: ID!) { deleteUser(id: $id) }", { id: self }))).toEqual(OWN_ACCOUNT);
      // Nothing of the refused updates was written, and the admin still works.
      expect((await userById(self)).data.user).toMatchObject({
        disabled: false,
        scopes: ["me", "admin"],
        fullName: `Test ${admin.username}`,
      });

      expect((await update('{ fullName: "Root Admin", scopes: ["me", "admin", "items"], disabled: false }')).body).toEqual({
        data: {
          updateUser: expect.objectContaining({
            id: self,
            fullName: "Root Admin",
            disabled: false,
            scopes: ["me", "admin", "items"],
          }),
        },
      });
      expect((await update('{ scopes: ["me", "admin"] }')).body.data.updateUser.scopes).toEqual(["me", "admin"]);
    });
  });

  describe("users: pages and search", () => {
    const PAGE =
      "query($first: Int!, $after: String, $search: String) { users(first: $first, after: $after, search: $search) {" +
      " totalCount edges { cursor node { username } } pageInfo { hasNextPage endCursor } } }";
    const page = async (variables: Record<string, unknown>) => {
      const response = await asAdmin(PAGE, variables);
      expect(response.body.errors).toBeUndefined();
      const users = response.body.data.users;
      return {
        names: users.edges.map((e: { node: { username: string } }) => e.node.username) as string[],
        totalCount: users.totalCount as number,
        hasNextPage: users.pageInfo.hasNextPage as boolean,
        endCursor: users.pageInfo.endCursor as string | null,
        cursors: users.edges.map((e: { cursor: string }) => e.cursor) as string[],
      };
    };
    const make = (username: string, email?: string) =>
      asAdmin("mutation($u: String!, $e: String) { createUser(input: { username: $u, email: $e }) { id } }", {
        u: username,
        e: email,
      });

    it("pages in case-insensitive username order; users inserted between pages neither repeat nor skip", async () => {
      const p = `pg${letters()}`;
      for (const suffix of ["j", "D", "b", "H", "f"]) expect((await make(p + suffix)).body.errors).toBeUndefined();

      const one = await page({ first: 2, search: p });
      expect(one).toMatchObject({ names: [`${p}b`, `${p}D`], totalCount: 5, hasNextPage: true });
      expect(one.endCursor).toBe(one.cursors[1]);
      // Opaque: nothing of the username shows.
      for (const cursor of one.cursors) expect(cursor).not.toContain(p);

      // One before the cursor (never shown now), one after it (shown in its place).
      await make(`${p}a`);
      await make(`${p}E`);
      const two = await page({ first: 2, search: p, after: one.endCursor });
      expect(two).toMatchObject({ names: [`${p}E`, `${p}f`], totalCount: 7, hasNextPage: true });
      const three = await page({ first: 2, search: p, after: two.endCursor });
      expect(three).toMatchObject({ names: [`${p}H`, `${p}j`], totalCount: 7, hasNextPage: false });
      expect(await page({ first: 2, search: p, after: three.endCursor })).toMatchObject({
        names: [],
        hasNextPage: false,
        endCursor: null,
      });

      // A user deleted between pages: the page after its cursor still starts at the next one.
      const d = (await page({ first: 100, search: `${p}d` })).names;
      expect(d).toEqual([`${p}D`]);
      const dId = (await server.app.users.findUserByUsername(`${p}D`))!.id;
      expect((await asAdmin("mutation($id: ID!) { deleteUser(id: $id) }", { id: dId })).body).toEqual({
        data: { deleteUser: true },
      });
      expect((await page({ first: 2, search: p, after: one.endCursor })).names).toEqual([`${p}E`, `${p}f`]);

      // The default page is 20; every user is listed, in the same order as one page of 100.
      const all = await page({ first: 100 });
      const byTwenty = await asAdmin("{ users { totalCount edges { node { username } } } }");
      expect(byTwenty.body.data.users.edges.map((e: { node: { username: string } }) => e.node.username)).toEqual(all.names.slice(0, 20));
      expect(byTwenty.body.data.users.totalCount).toBe(all.totalCount);
    });

    it("first outside 1..100 and a cursor it did not hand out are refused with BAD_USER_INPUT", async () => {
      for (const first of [0, -1, 101]) {
        expect(firstError(await asAdmin(PAGE, { first }))).toEqual({
          code: "BAD_USER_INPUT",
          message: "first must be between 1 and 100",
        });
      }
      expect((await page({ first: 100 })).names.length).toBeGreaterThan(0);
      const forged = Buffer.from("u1:\u0000").toString("base64url");
      for (const after of ["garbage!", "", Buffer.from("x:johndoe").toString("base64url"), forged, "A".repeat(5000)]) {
        expect(firstError(await asAdmin(PAGE, { first: 5, after }))).toEqual({
          code: "BAD_USER_INPUT",
          message: "Invalid cursor",
        });
      }
    });

    it("search matches part of the username or email in any case; % and _ match only themselves", async () => {
      const p = `sr${letters()}`;
      await make(`${p}_under`);
      await make(`${p}xunder`, "Mixed.Case@Example.ORG");
      await make(`${p}other`, `${p}.Mail@Example.com`);
      expect((await page({ first: 10, search: p.toUpperCase() })).names).toEqual([`${p}_under`, `${p}other`, `${p}xunder`]);
      expect((await page({ first: 10, search: `${p}_` })).names).toEqual([`${p}_under`]);
      expect((await page({ first: 10, search: `${p}%` })).totalCount).toBe(0);
      expect((await page({ first: 10, search: `XUNDER` })).names).toEqual([`${p}xunder`]);
      const byEmail = await page({ first: 10, search: "mixed.CASE@example" });
      expect(byEmail.names).toContain(`${p}xunder`);
      expect((await page({ first: 10, search: `${p.toUpperCase()}.MAIL` })).names).toEqual([`${p}other`]);
      expect(await page({ first: 10, search: "no\u0000such" })).toMatchObject({ names: [], totalCount: 0 });
    });
  });

  describe("the mutations", () => {
    const CREATE = `mutation($input: CreateUserInput!) { createUser(input: $input) { ${USER_FIELDS} } }`;

    it("createUser follows the rules of users add: a common password is refused and nothing is created", async () => {
      const username = `common_${letters()}`;
      secrets.push("a perfectly fine passphrase");
      const refused = await asAdmin(CREATE, { input: { username, password: "Password1" } });
      expect(firstError(refused)).toEqual({ code: "BAD_USER_INPUT", message: "Password is too common" });
      const short = await asAdmin(CREATE, { input: { username, password: "short" } });
      expect(firstError(short)).toEqual({ code: "BAD_USER_INPUT", message: "Password must be at least 8 characters" });
      expect(firstError(await asAdmin(CREATE, { input: { username, email: "nope" } }))).toEqual({
        code: "BAD_USER_INPUT",
        message: "Invalid email",
      });
      expect(await server.app.users.findUserByUsername(username)).toBeUndefined();

      const made = await asAdmin(CREATE, {
        input: {
          username,
          password: "a perfectly fine passphrase",
          email: "c@example.com",
          fullName: "C. Reated",
          scopes: ["me"],
        },
      });
      expect(made.body).toEqual({
        data: {
          createUser: {
            id: expect.any(String),
            username,
            email: "c@example.com",
            fullName: "C. Reated",
            disabled: false,
            scopes: ["me"],
          },
        },
      });
      expect(await server.login(username, "a perfectly fine passphrase")).toEqual(expect.any(String));
      expect(firstError(await asAdmin(CREATE, { input: { username: username.toUpperCase() } }))).toEqual({
        code: "BAD_USER_INPUT",
        message: `Username already exists: ${username.toUpperCase()}`,
      });
    });

    it("createUser without a password: no password opens it; disabled and default scopes as given", async () => {
      const username = `nopw_${letters()}`;
      const made = await asAdmin(CREATE, { input: { username, disabled: true } });
      expect(made.body.data.createUser).toMatchObject({ username, disabled: true, scopes: ["me", "items"] });
      expect((await server.app.users.findCredentials(username))?.passwordHash).toBeNull();
      await setUserDisabled(server.app.auth, username, false);
      for (const password of ["", "anything at all", "null"]) {
        const response = await server.gql("mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }", {
          u: username,
          p: password,
        });
        expect(firstError(response)).toEqual({ code: "UNAUTHENTICATED", message: "Incorrect username or password" });
      }
    });

    it("updateUser changes email, full name and scopes by the field rules; disabling ends refreshing", async () => {
      const user = await server.createUser({ prefix: "upd" });
      const pair = await loginPair(server, user.username, user.password);
      const update = (input: Record<string, unknown>) =>
        asAdmin(`mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { ${USER_FIELDS} } }`, {
          id: user.id,
          input,
        });

      expect(firstError(await update({ email: "bad address", fullName: "Never Written" }))).toEqual({
        code: "BAD_USER_INPUT",
        message: "Invalid email",
      });
      expect(firstError(await update({ fullName: "bidi\u202Ename" }))).toEqual({
        code: "BAD_USER_INPUT",
        message: "Invalid full name",
      });
      expect(firstError(await update({ scopes: ['"quoted"'] }))).toEqual({
        code: "BAD_USER_INPUT",
        message: "Invalid scope",
      });
      expect((await userById(user.id)).data.user).toMatchObject({
        email: `${user.username}@example.com`,
        fullName: `Test ${user.username}`,
      });

      expect((await update({ email: " new@example.com ", fullName: "New Name", scopes: ["me"] })).body.data.updateUser).toEqual({
        id: user.id,
        username: user.username,
        email: "new@example.com",
        fullName: "New Name",
        disabled: false,
        scopes: ["me"],
      });
      // The token's scopes are cut to the account's at once.
      const items = await server.gql("{ myItems { itemId } }", {}, { token: pair.accessToken });
      expect(firstError(items)).toEqual({ code: "FORBIDDEN", message: "Not enough permissions" });
      expect((await update({ email: null, fullName: null })).body.data.updateUser).toMatchObject({
        email: null,
        fullName: null,
        scopes: ["me"],
      });

      expect((await update({ disabled: true })).body.data.updateUser).toMatchObject({ disabled: true });
      expect(firstError(await server.gql("{ me { id } }", {}, { token: pair.accessToken }))).toEqual({
        code: "FORBIDDEN",
        message: "Inactive user",
      });
      expect(firstError(await refreshMutation(server, pair.refreshToken))).toEqual({
        code: "UNAUTHENTICATED",
        message: "Invalid refresh token",
      });
      expect((await update({ disabled: false })).body.data.updateUser).toMatchObject({ disabled: false });
      expect((await server.gql("{ me { id } }", {}, { token: pair.accessToken })).body).toEqual({
        data: { me: { id: user.id } },
      });
      // Ended for good: enabling brings no refreshing back.
      expect(firstError(await refreshMutation(server, pair.refreshToken))).toEqual({
        code: "UNAUTHENTICATED",
        message: "Invalid refresh token",
      });
    });

    it("deleteUser: its access tokens fail validation, its refresh tokens and sessions are gone", async () => {
      const user = await server.createUser({ prefix: "del" });
      const first = await loginPair(server, user.username, user.password);
      const second = await loginPair(server, user.username, user.password);
      expect((await asAdmin("mutation($id: ID!) { deleteUser(id: $id) }", { id: user.id })).body).toEqual({
        data: { deleteUser: true },
      });

      for (const pair of [first, second]) {
        expectInvalidToken(await server.gql("{ me { id } }", {}, { token: pair.accessToken }));
        expectInvalidToken(await server.gql("{ status }", {}, { token: pair.accessToken }));
        expect(firstError(await refreshMutation(server, pair.refreshToken))).toEqual({
          code: "UNAUTHENTICATED",
          message: "Invalid refresh token",
        });
      }
      const db = server.app.database.db;
      expect(await db.selectFrom("sessions").select("id").where("user_id", "=", user.id).execute()).toEqual([]);
      expect(await db.selectFrom("refresh_tokens").select("id").where("user_id", "=", user.id).execute()).toEqual([]);
      expect(await userById(user.id)).toEqual({ data: { user: null } });
      expect(firstError(await asAdmin("mutation($id: ID!) { deleteUser(id: $id) }", { id: user.id }))).toEqual(UNKNOWN_USER);
    });

    it("revokeUserSessions ends every live session at once and says how many", async () => {
      const user = await server.createUser({ prefix: "rev" });
      const pairs = [await loginPair(server, user.username, user.password), await loginPair(server, user.username, user.password)];
      const other = await server.createUser({ prefix: "bystander" });
      const otherPair = await loginPair(server, other.username, other.password);
      const revoke = () => asAdmin("mutation($id: ID!) { revokeUserSessions(id: $id) }", { id: user.id });

      expect((await revoke()).body).toEqual({ data: { revokeUserSessions: 2 } });
      for (const pair of pairs) {
        expectInvalidToken(await server.gql("{ me { id } }", {}, { token: pair.accessToken }));
        expect(firstError(await refreshMutation(server, pair.refreshToken))).toEqual({
          code: "UNAUTHENTICATED",
          message: "Invalid refresh token",
        });
      }
      expect((await revoke()).body).toEqual({ data: { revokeUserSessions: 0 } });
      // Another user's session is untouched, and the user may log in again.
      expect((await server.gql("{ me { id } }", {}, { token: otherPair.accessToken })).body).toEqual({
        data: { me: { id: other.id } },
      });
      const fresh = await server.login(user.username, user.password);
      expect((await server.gql("{ me { id } }", {}, { token: fresh })).body).toEqual({ data: { me: { id: user.id } } });
      expect((await revoke()).body).toEqual({ data: { revokeUserSessions: 1 } });
    });

    it("unlockUser after a lockout lets the right password in at once", async () => {
      const user = await server.createUser({ prefix: "lock" });
      const attempt = (password: string) =>
        server.gql("mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }", {
          u: user.username,
          p: password,
        });
      for (let i = 0; i < 5; i++) {
        expect(firstError(await attempt("wrong password"))).toEqual({
          code: "UNAUTHENTICATED",
          message: "Incorrect username or password",
        });
      }
      expectRateLimited(await attempt(user.password));

      expect((await asAdmin("mutation($id: ID!) { unlockUser(id: $id) }", { id: user.id })).body).toEqual({
        data: { unlockUser: true },
      });
      expect((await attempt(user.password)).body.data?.login.accessToken).toEqual(expect.any(String));
    });
  });

  it("no password or token of this file reaches a log line", () => {
    const lines = log.lines();
    expect(lines.length).toBeGreaterThan(0);
    for (const secret of [...secrets, "Password1", "$argon2"]) expect(lines).not.toContain(secret);
  });
});
