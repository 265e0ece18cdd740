/** Issue 19 (the soak's flood): a login beyond the hash queue's bound is refused before any database work. */
import { DIALECTS, startTestServer, uniqueName, type TestServer } from "../harness";
import { requestOnNewConnection } from "../spawned-server";

const LOGIN = "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";
const QUEUE_MAX = 2;

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: any;
}

describe.each(DIALECTS)("login admission (%s)", (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      dialect,
      env: {
        HASH_CONCURRENCY: "1",
        HASH_QUEUE_MAX: String(QUEUE_MAX),
        // Slow enough that the logins sent together all arrive while the first verification runs.
        ARGON2_MEMORY_KIB: "65536",
        ARGON2_TIME_COST: "2",
        TRUST_PROXY: "1",
      },
    });
  });
  afterAll(async () => server?.close());

  // One connection per request (no pool), from an address of its own.
  const login = async (username: string, address: string): Promise<Answer> => {
    const { status, headers, body } = await requestOnNewConnection(
      Number(new URL(server.url).port),
      "/graphql",
      { query: LOGIN, variables: { u: username, p: "wrong-password" } },
      { "x-forwarded-for": address },
    );
    return { status, retryAfter: headers["retry-after"] as string | undefined, body };
  };
  const attemptRows = async (address: string) =>
    server.app.database.db.selectFrom("login_attempts").select("key").where("key", "=", `addr:${address}`).execute();

  it("a login beyond HASH_QUEUE_MAX waiting is answered 503 Server busy without a failed-login row, the others as usual", async () => {
    const addresses = Array.from({ length: 20 }, (_, i) => `10.9.0.${i + 1}`);
    const answers = await Promise.all(addresses.map((address) => login(uniqueName("admit"), address)));

    const busy = answers.map((answer, i) => ({ answer, address: addresses[i]! })).filter(({ answer }) => answer.status === 503);
    const verified = answers.filter((answer) => answer.status === 200);
    expect(busy.length + verified.length).toBe(answers.length);
    // At most the one computing and QUEUE_MAX waiting are admitted at a time; 20 sent together overflow it.
    expect(busy.length).toBeGreaterThan(0);
    for (const answer of verified) expect(answer.body.errors?.[0]).toMatchObject({ message: "Incorrect username or password" });
    for (const { answer, address } of busy) {
      expect(answer.body.errors?.[0]).toMatchObject({
        message: `Server busy; retry in ${answer.retryAfter} seconds`,
        extensions: { code: "SERVICE_UNAVAILABLE", retryAfter: Number(answer.retryAfter) },
      });
      // Refused before the failed-login bookkeeping: the database never saw this attempt.
      expect(await attemptRows(address)).toEqual([]);
    }
    // The verified ones were counted as usual.
    const counted = answers.findIndex((answer) => answer.status === 200);
    expect(await attemptRows(addresses[counted]!)).toHaveLength(1);
  }, 60_000);
});
