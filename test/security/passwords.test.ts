/** ATTACKS.md H3 and H4: the hash queue's bound and its clients, and equal timing whatever the stored hash. */
import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import * as argon2 from "argon2";
import bcrypt from "bcryptjs";
import { PasswordService } from "../../src/passwords/passwords";
import { DIALECTS, startTestServer, uniqueName, type GraphQLResponse, type TestServer } from "../harness";
import { LEGACY_VECTORS } from "../legacy-vectors";
import { requestOnNewConnection, spawnServer } from "../spawned-server";
import { movableClock } from "../support";

const LOGIN = "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";
const QUEUE_MAX = 8;

interface Answer extends GraphQLResponse {
  /** Computations the server had finished when this answer arrived. */
  readonly completedAt: number;
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function expectBusy(answer: GraphQLResponse): void {
  expect(answer.status).toBe(503);
  const retryAfter = Number(answer.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
  expect(answer.body.errors?.[0]).toMatchObject({
    message: `Server busy; retry in ${retryAfter} seconds`,
    extensions: { code: "SERVICE_UNAVAILABLE", retryAfter },
  });
  expect(JSON.stringify(answer.body)).not.toMatch(/stack|at .*\.ts/);
}

describe.each(DIALECTS)("the hash queue (%s)", (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      dialect,
      env: {
        HASH_CONCURRENCY: "1",
        HASH_QUEUE_MAX: String(QUEUE_MAX),
        // Slow enough that a flood sent at once arrives while the first verification still runs.
        ARGON2_MEMORY_KIB: "65536",
        ARGON2_TIME_COST: "2",
        TRUST_PROXY: "1",
      },
    });
  });
  afterAll(async () => server?.close());

  // node:http, one connection per request: a client that leaves closes its socket, and nothing
  // (as fetch's pool would) opens a spare connection that then holds the server's close() open.
  const login = (username: string, password: string, address: string, signal?: AbortSignal): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const { port } = new URL(server.url);
      const request = httpRequest(
        {
          host: "127.0.0.1",
          port,
          path: "/graphql",
          method: "POST",
          agent: false,
          signal,
          headers: { "content-type": "application/json", "x-forwarded-for": address },
        },
        (response) => {
          let text = "";
          response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
          response.on("end", () => {
            const headers = new Headers(Object.entries(response.headers).map(([k, v]) => [k, String(v)] as [string, string]));
            resolve({
              status: response.statusCode ?? 0,
              headers,
              body: JSON.parse(text) as GraphQLResponse["body"],
              completedAt: server.app.passwords.completedTasks,
            });
          });
        },
      );
      request.on("error", reject);
      request.end(JSON.stringify({ query: LOGIN, variables: { u: username, p: password } }));
    });
  const addressCount = async (address: string) => {
    const row = await server.app.database.db
      .selectFrom("login_attempts")
      .select("attempts")
      .where("key", "=", `addr:${address}`)
      .executeTakeFirst();
    return Number(row?.attempts ?? 0);
  };

  it("H3: a login flood from many addresses is answered 503 + Retry-After beyond HASH_QUEUE_MAX at once; a normal user's login answers within the bound", async () => {
    const user = await server.createUser();
    const before = server.app.passwords.completedTasks;
    let deepest = 0;
    const watch = setInterval(() => (deepest = Math.max(deepest, server.app.passwords.waitingTasks)), 1);
    const flood = Array.from({ length: 40 }, (_, i) => login(uniqueName("flood"), "wrong-password", `10.3.${i >> 8}.${i & 255}`));
    const normal = login(user.username, user.password, "192.0.2.10");
    const answers = await Promise.all(flood);
    const mine = await normal;
    clearInterval(watch);

    const busy = answers.filter((a) => a.status === 503);
    const verified = answers.filter((a) => a.status === 200);
    // At most QUEUE_MAX waited beside the one computing (more got in while the first ones finished); the rest were refused.
    expect(busy.length).toBeGreaterThanOrEqual(answers.length - QUEUE_MAX - 10);
    expect(busy.length + verified.length).toBe(answers.length);
    for (const a of verified) expect(a.body.errors?.[0]).toMatchObject({ message: "Incorrect username or password" });
    for (const a of busy) expectBusy(a);
    expect(deepest).toBeLessThanOrEqual(QUEUE_MAX);
    // At once: every refusal arrived before the accepted logins had all been verified.
    expect(Math.max(...busy.map((a) => a.completedAt)) - before).toBeLessThan(verified.length);

    // The normal user waited behind at most the bounded queue, or was told at once when to retry.
    expect(mine.completedAt - before).toBeLessThanOrEqual(QUEUE_MAX + 2);
    if (mine.status === 503) expectBusy(mine);
    else expect(mine.body.data?.login?.accessToken).toEqual(expect.any(String));

    // A refused attempt was never verified, so it does not count against its address.
    const refusedIndex = answers.indexOf(busy[0]!);
    expect(await addressCount(`10.3.${refusedIndex >> 8}.${refusedIndex & 255}`)).toBe(0);
  }, 60_000);

  it("H3: POST /token beyond the bound answers 503 temporarily_unavailable with Retry-After, at once", async () => {
    const { port } = new URL(server.url);
    const token = (i: number) =>
      new Promise<{ status: number; headers: Record<string, unknown>; body: any }>((resolve, reject) => {
        const form = new URLSearchParams({
          grant_type: "password",
          username: uniqueName("tokenflood"),
          password: "wrong-password",
        }).toString();
        const request = httpRequest(
          {
            host: "127.0.0.1",
            port,
            path: "/token",
            method: "POST",
            agent: false,
            headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": `10.5.0.${i}` },
          },
          (response) => {
            let text = "";
            response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
            response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: JSON.parse(text) }));
          },
        );
        request.on("error", reject);
        request.end(form);
      });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => token(i)));
    const busy = answers.filter((a) => a.status === 503);
    expect(busy.length).toBeGreaterThanOrEqual(answers.length - QUEUE_MAX - 10);
    for (const a of answers.filter((a) => a.status !== 503)) expect(a).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    for (const a of busy) {
      const retryAfter = Number(a.headers["retry-after"]);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(a.body).toEqual({ error: "temporarily_unavailable", error_description: `Server busy; retry in ${retryAfter} seconds` });
      expect(a.headers["cache-control"]).toBe("no-store");
    }
  }, 60_000);

  it("H3: logins whose clients left while waiting are never hashed, and their attempts do not count", async () => {
    // The previous flood has drained once a login sent now is answered (the queue is first in, first out).
    await login(uniqueName("drain"), "wrong-password", "10.4.1.1");
    const start = server.app.passwords.completedTasks;
    const controllers = Array.from({ length: QUEUE_MAX }, () => new AbortController());
    const pending = controllers.map((c, i) =>
      login(uniqueName("gone"), "wrong-password", `10.4.0.${i}`, c.signal).catch((error: unknown) => error),
    );
    // Sent together: once the first is verified, the others are computing or waiting behind it.
    await until(() => server.app.passwords.completedTasks > start, "the first verification");
    const before = server.app.passwords.completedTasks;
    for (const c of controllers) c.abort();
    await Promise.all(pending);
    // A login sent after them is answered only once everything ahead of it was computed or dropped.
    const sentinel = await login(uniqueName("after"), "wrong-password", "10.4.1.2");
    expect(sentinel.body.errors?.[0]).toMatchObject({ message: "Incorrect username or password" });
    // Computed since the clients left: at most the one that was already running, and the sentinel.
    expect(sentinel.completedAt - before).toBeLessThanOrEqual(2);
    const counts = await Promise.all(controllers.map((_, i) => addressCount(`10.4.0.${i}`)));
    expect(counts.filter((n) => n === 0).length).toBeGreaterThanOrEqual(QUEUE_MAX - 2);
  }, 60_000);
});

describe("equal timing whatever the stored hash", () => {
  // The cheap test policy: every legacy hash below costs more or less than it, as after an import.
  const POLICY = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
  const clock = movableClock();
  let passwords: PasswordService;
  let costly: string;
  beforeAll(async () => {
    passwords = await PasswordService.create(POLICY, 1, { clock });
    costly = bcrypt.hashSync(randomBytes(8).toString("hex"), 10);
  });
  afterAll(async () => passwords?.close());

  const wrong = () => `wrong-${randomBytes(6).toString("hex")}`;
  const vector = (format: string) => LEGACY_VECTORS.find((v) => v.format === format)!;

  it("H4: after a costly bcrypt verification, a cheap legacy hash, an argon2 hash of other parameters and an unknown username are all padded to the same floor", async () => {
    expect((await passwords.verify(wrong(), costly)).ok).toBe(false);
    const floor = passwords.floorMs;
    expect(floor).toBeGreaterThanOrEqual(passwords.lastPadding!.computeMs);

    const cheap = ["bcrypt-2b", "django-pbkdf2-sha256", "passlib-pbkdf2-sha256", "argon2id", "django-bcrypt-sha256"].map(vector);
    for (const v of cheap) {
      const started = performance.now();
      expect((await passwords.verify(v.wrong, v.hash)).ok).toBe(false);
      const elapsed = performance.now() - started;
      const padding = passwords.lastPadding!;
      // Padded by a timer up to the floor set by the costliest kind seen (its cost is recorded too).
      expect(padding.paddedMs).toBeGreaterThan(0);
      expect(padding.computeMs + padding.paddedMs).toBeCloseTo(padding.floorMs, 6);
      expect(padding.floorMs).toBeCloseTo(floor, 6);
      // A lower bound only: load can make it longer, never shorter.
      expect(elapsed).toBeGreaterThanOrEqual(padding.floorMs - 2);
    }

    // The unknown username's dummy verification (current policy) is padded to the same floor.
    await passwords.verifyDummy(wrong());
    const dummy = passwords.lastPadding!;
    expect(dummy.paddedMs).toBeGreaterThan(0);
    expect(dummy.computeMs + dummy.paddedMs).toBeCloseTo(dummy.floorMs, 6);
    expect(dummy.floorMs).toBeGreaterThan(dummy.computeMs);
  });

  it("H4: a correct password is not padded, and a kind not verified for a day stops holding the floor up", async () => {
    const right = vector("bcrypt-2b");
    const last = passwords.lastPadding;
    expect((await passwords.verify(right.password, right.hash)).ok).toBe(true);
    expect(passwords.lastPadding).toBe(last);

    const raised = passwords.floorMs;
    clock.advance(24 * 60 * 60 * 1000 + 1);
    await passwords.verifyDummy(wrong());
    expect(passwords.floorMs).toBeLessThan(raised);
  });

  it("H4: calibration from stored hashes sets the floor before any client's first verification of that kind", async () => {
    const fresh = await PasswordService.create(POLICY, 1, { clock });
    try {
      const base = fresh.floorMs;
      await fresh.calibrate([costly]);
      expect(fresh.floorMs).toBeGreaterThan(base);
      const v = vector("bcrypt-2b");
      await fresh.verify(v.wrong, v.hash);
      expect(fresh.lastPadding!.paddedMs).toBeGreaterThan(0);
    } finally {
      await fresh.close();
    }
  });
});

describe.each(DIALECTS)("equal timing over HTTP (%s)", (dialect) => {
  let server: TestServer;
  let legacyCost = 0;
  beforeAll(async () => {
    server = await startTestServer({ dialect });
  });
  afterAll(async () => server?.close());

  it("H4: once a bcrypt-12 account has failed a login, an unknown username's login is padded to its cost", async () => {
    const imported = await server.createUser({ passwordHash: bcrypt.hashSync(randomBytes(8).toString("hex"), 12) });
    const first = await server.gql(LOGIN, { u: imported.username, p: "wrong-password" });
    expect(first.body.errors?.[0]?.message).toBe("Incorrect username or password");
    legacyCost = server.app.passwords.lastPadding!.computeMs;

    const unknown = await server.gql(LOGIN, { u: uniqueName("nobody"), p: "wrong-password" });
    expect(unknown.body.errors?.[0]?.message).toBe("Incorrect username or password");
    const padding = server.app.passwords.lastPadding!;
    expect(padding.computeMs).toBeLessThan(legacyCost);
    expect(padding.computeMs + padding.paddedMs).toBeCloseTo(legacyCost, 6);
  });

  it("H4: a server started on those accounts has calibrated its floor from them before its first login", async () => {
    const second = await startTestServer({ dialect, databaseUrl: server.database.url });
    try {
      // Before any login: the floor already holds the bcrypt-12 account's cost, not just the policy's.
      expect(second.app.passwords.floorMs).toBeGreaterThan(legacyCost * 0.5);
      const unknown = await second.gql(LOGIN, { u: uniqueName("nobody"), p: "wrong-password" });
      expect(unknown.body.errors?.[0]?.message).toBe("Incorrect username or password");
      expect(second.app.passwords.lastPadding!.paddedMs).toBeGreaterThan(second.app.passwords.lastPadding!.computeMs);
    } finally {
      await second.close();
    }
  });
});

describe.each(DIALECTS)("a login in flight on a killed process (%s)", (dialect) => {
  const clock = movableClock();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dialect, clock, env: { LOGIN_MAX_FAILURES: "1" } });
  });
  afterAll(async () => server?.close());

  it("M1/M4 (issue 11, finding 14): an attempt that never finished stops counting once it is PENDING_ATTEMPT_MS old; the budget stays shared and atomic", async () => {
    const password = `pw-${randomBytes(6).toString("hex")}`;
    // Costly enough that the spawned server is still verifying when it is killed.
    const user = await server.createUser({
      passwordHash: await argon2.hash(password, { type: argon2.argon2id, memoryCost: 131072, timeCost: 8, parallelism: 1 }),
    });
    const worker = spawnServer({ DATABASE_URL: server.database.url });
    try {
      const listening = await worker.waitForLine((line) => typeof line.url === "string", "the listening line");
      const port = Number(new URL(String(listening.url)).port);
      const key = `user:${user.username.toLowerCase()}`;
      while ((await requestOnNewConnection(port, "/readyz")).status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
      const row = () => server.app.database.db.selectFrom("login_attempts").selectAll().where("key", "=", key).executeTakeFirst();
      void requestOnNewConnection(port, "/graphql", { query: LOGIN, variables: { u: user.username, p: password } }).catch(() => undefined);
      // The attempt is counted before the password is verified: kill the worker right then.
      const deadline = Date.now() + 20_000;
      while (!(await row())) {
        if (Date.now() > deadline) throw new Error("the login never reached the limiter");
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      worker.child.kill("SIGKILL");
      await worker.exited;
      // Still counted, and still pending: nobody will ever settle it.
      expect(Number((await row())?.attempts)).toBe(1);

      // The spawned server counted on the system clock: bring ours to that instant, then past the window.
      clock.set(Date.now());
      clock.advance(2 * 60 * 1000 + 1);
      const token = await server.login(user.username, password);
      expect(token).toEqual(expect.any(String));
    } finally {
      if (worker.child.exitCode === null) worker.child.kill("SIGKILL");
    }
  }, 60_000);
});
