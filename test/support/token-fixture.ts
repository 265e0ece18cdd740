/** The set-up the access-token suites share: a server on a clock only the tests move, one user, and the two verdicts. */
import { startTestServer, type TestDialect, type TestServer, type TestUser } from "../harness";
import { movableClock, type MovableClock } from "./clock";
import { expectInvalidToken, expectMe } from "./expectations";

export interface TokenFixture {
  /** A fixed instant that only the tests move: expiry without sleeping. */
  readonly clock: MovableClock;
  /** The clock in whole seconds, as tokens carry it. */
  now(): number;
  readonly server: TestServer;
  readonly user: TestUser;
  /** `me` answers with the user and no challenge. */
  expectAccepted(token: string): Promise<void>;
  /** `me` answers 200 with no data, "Could not validate credentials" and the invalid_token challenge. */
  expectInvalidToken(token: string): Promise<void>;
}

/** Registers beforeAll/afterAll in the calling describe block; `server` and `user` exist from beforeAll on. */
export function useTokenFixture(dialect: TestDialect): TokenFixture {
  const clock = movableClock(Date.UTC(2031, 4, 1, 12, 0, 0));
  let server: TestServer | undefined;
  let user: TestUser | undefined;
  beforeAll(async () => {
    server = await startTestServer({ dialect, clock });
    user = await server.createUser();
  });
  afterAll(async () => server?.close());

  const me = (token: string) => fixture.server.gql("{ me { id } }", {}, { token });
  const fixture: TokenFixture = {
    clock,
    now: () => Math.floor(clock.now() / 1000),
    get server() {
      if (!server) throw new Error("useTokenFixture: the server starts in beforeAll");
      return server;
    },
    get user() {
      if (!user) throw new Error("useTokenFixture: the user is made in beforeAll");
      return user;
    },
    async expectAccepted(token) {
      expectMe(await me(token), fixture.user.id);
    },
    async expectInvalidToken(token) {
      const response = await me(token);
      expectInvalidToken(response);
      expect(response.body.errors?.[0]?.path).toEqual(["me"]);
    },
  };
  return fixture;
}
