/** PostgreSQL's token-subject lookups of one event-loop turn as one query: the same answers as one by one, outages for all. */
import { randomUUID } from "node:crypto";
import { type LogEvent } from "kysely";
import { Client } from "pg";
import { createDb, type DatabaseHandle } from "../../src/db/database";
import { migrateToLatest } from "../../src/db/migrate";
import { KyselyTokenSubjectReader, PostgresTokenSubjectReader, type TokenSubjectRow } from "../../src/db/token-subjects";
import { ServiceUnavailable } from "../../src/errors";
import { UserStore } from "../../src/users/user.store";
import { createTestDatabase, DIALECTS, PG_ADMIN_URL, uniqueName, type TestDatabase } from "../harness";
import { createTcpProxy } from "../tcp-proxy";

const describePostgres = DIALECTS.includes("postgres") ? describe : describe.skip;

async function until(check: () => Promise<boolean>, what: string, attempts = 100): Promise<void> {
  for (let i = 0; i < attempts; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describePostgres("PostgreSQL token-subject lookups, batched per event-loop turn", () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  /** Every statement `handle.db` has run (or failed) since the last reset, from Kysely's log. */
  let statements: LogEvent[] = [];
  beforeAll(async () => {
    database = await createTestDatabase("postgres");
    handle = createDb(database.url, { log: (event) => void statements.push(event) });
    await migrateToLatest(handle.db);
  });
  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  const NOW = Date.now();
  const unknownId = () => randomUUID();

  async function newUser(): Promise<string> {
    const user = await new UserStore(handle.db).createUser({ username: uniqueName("batch"), passwordHash: null, scopes: ["me"] });
    return user.id;
  }

  async function newSession(userId: string, ends: { revokedAt?: number; expiresAt?: number } = {}): Promise<string> {
    const id = randomUUID();
    await handle.db
      .insertInto("sessions")
      .values({
        id,
        user_id: userId,
        created_at: NOW,
        last_used_at: NOW,
        expires_at: ends.expiresAt ?? NOW + 86_400_000,
        revoked_at: ends.revokedAt ?? null,
      })
      .execute();
    return id;
  }

  /** What the single query (one round trip per lookup, as before batching) answers for each pair. */
  async function oneByOne(pairs: readonly (readonly [string, string | null])[]): Promise<(TokenSubjectRow | undefined)[]> {
    const single = new KyselyTokenSubjectReader(handle.db);
    const rows: (TokenSubjectRow | undefined)[] = [];
    for (const [userId, sessionId] of pairs) rows.push(await single.read(userId, sessionId));
    return rows;
  }

  /** Asks for every pair in the same turn, and records the statements the answers took. */
  async function inOneTurn(pairs: readonly (readonly [string, string | null])[]) {
    statements = [];
    const rows = await Promise.all(pairs.map(([userId, sessionId]) => handle.tokenSubjects.read(userId, sessionId)));
    return { rows, statements: statements.splice(0) };
  }

  it("is the batching reader that createDb gives on PostgreSQL", () => {
    expect(handle.tokenSubjects).toBeInstanceOf(PostgresTokenSubjectReader);
  });

  it("answers a turn's lookups with one query, each exactly as the single query answers it", async () => {
    const [alice, bob, carol] = [await newUser(), await newUser(), await newUser()];
    const aliceSession = await newSession(alice);
    const bobSession = await newSession(bob);
    const revoked = await newSession(carol, { revokedAt: NOW - 1_000 });
    const expired = await newSession(carol, { expiresAt: NOW - 60_000 });
    const pairs: [string, string | null][] = [
      [alice, aliceSession], // the user's own live session
      [alice, bobSession], // a session of another user: the user, without a session
      [bob, null], // a token without sid
      [carol, revoked], // the revocation time passed through
      [carol, expired], // the expiry passed through
      [unknownId(), null], // an unknown user: undefined
      [unknownId(), aliceSession], // an unknown user with someone's session: undefined
      [bob, unknownId()], // an unknown session
      [alice, aliceSession], // asked twice in the same turn
      [bob, null],
    ];
    const expected = await oneByOne(pairs);

    const { rows, statements } = await inOneTurn(pairs);

    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ level: "query" });
    expect(statements[0]!.query.sql).toMatch(/unnest/);
    expect(rows).toEqual(expected);
    // The cases are what they claim to be, so the comparison above covers each of them.
    expect(rows[0]).toMatchObject({ id: alice, session_id: aliceSession, session_revoked_at: null });
    expect(rows[1]).toMatchObject({ id: alice, session_id: null, session_expires_at: null });
    expect(rows[2]).toMatchObject({ id: bob, session_id: null });
    expect(rows[3]).toMatchObject({ id: carol, session_id: revoked, session_revoked_at: String(NOW - 1_000) });
    expect(rows[4]).toMatchObject({ id: carol, session_id: expired, session_expires_at: String(NOW - 60_000), session_revoked_at: null });
    expect(rows[5]).toBeUndefined();
    expect(rows[6]).toBeUndefined();
    expect(rows[7]).toMatchObject({ id: bob, session_id: null });
    expect(rows[8]).toEqual(rows[0]);
  });

  it("gives the same answers whatever the order of the turn's lookups", async () => {
    const [dave, erin] = [await newUser(), await newUser()];
    const daveSession = await newSession(dave);
    const pairs: [string, string | null][] = [
      [dave, daveSession],
      [erin, daveSession],
      [unknownId(), null],
      [erin, null],
    ];
    const forward = await inOneTurn(pairs);
    const backward = await inOneTurn([...pairs].reverse());
    expect(backward.rows.reverse()).toEqual(forward.rows);
    expect(forward.rows).toEqual(await oneByOne(pairs));
  });

  it("sends a lookup alone as the single query", async () => {
    const frank = await newUser();
    const { rows, statements } = await inOneTurn([[frank, null]]);
    expect(statements).toHaveLength(1);
    expect(statements[0]!.query.sql).not.toMatch(/unnest/);
    expect(rows).toEqual(await oneByOne([[frank, null]]));
  });

  it("splits a turn of more than 256 lookups into queries of at most 256", async () => {
    const grace = await newUser();
    const graceSession = await newSession(grace);
    const pairs = Array.from({ length: 600 }, (_, i): [string, string | null] =>
      i % 3 === 0 ? [grace, graceSession] : i % 3 === 1 ? [grace, null] : [unknownId(), null],
    );
    const { rows, statements } = await inOneTurn(pairs);
    expect(statements.map((event) => (event.query.parameters[0] as unknown[]).length).sort((a, b) => a - b)).toEqual([88, 256, 256]);
    const [withSession, withoutSession] = await oneByOne([
      [grace, graceSession],
      [grace, null],
    ]);
    expect(rows).toEqual(pairs.map((_, i) => (i % 3 === 0 ? withSession : i % 3 === 1 ? withoutSession : undefined)));
  });

  it("fails only the lookup the database refuses; the others of its turn are answered", async () => {
    const heidi = await newUser();
    const single = new KyselyTokenSubjectReader(handle.db);
    // PostgreSQL's text cannot hold NUL: the single query fails on it, and so would a whole batch.
    const alone = await single.read("bad\0id", null).catch((error: unknown) => error);
    expect(alone).toBeInstanceOf(Error);
    expect(alone).not.toBeInstanceOf(ServiceUnavailable);

    const reads = [heidi, "bad\0id", heidi].map((userId) => handle.tokenSubjects.read(userId, null));
    const settled = await Promise.allSettled(reads);

    expect(settled.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ message: (alone as Error).message });
    const [expected] = await oneByOne([[heidi, null]]);
    expect((settled[0] as PromiseFulfilledResult<unknown>).value).toEqual(expected);
    expect((settled[2] as PromiseFulfilledResult<unknown>).value).toEqual(expected);
  });

  it("fails every lookup of a batch whose connection is terminated as an outage, then answers again", async () => {
    const ivan = await newUser();
    const ivanSession = await newSession(ivan);
    // A lock on users holds the batch's query in flight until its backend is terminated. Another
    // client watches: inside the locker's transaction pg_stat_activity would stay at its first snapshot.
    const locker = new Client({ connectionString: database.url });
    const watcher = new Client({ connectionString: database.url });
    await locker.connect();
    await watcher.connect();
    let settled: PromiseSettledResult<unknown>[];
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
      const reads = Promise.allSettled([handle.tokenSubjects.read(ivan, ivanSession), handle.tokenSubjects.read(ivan, null)]);
      const waiting = "FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%unnest%'";
      await until(
        async () => (await watcher.query(`SELECT count(*)::int AS n ${waiting}`)).rows[0].n === 1,
        "the batch to wait on the lock",
      );
      await watcher.query(`SELECT pg_terminate_backend(pid) ${waiting}`);
      settled = await reads;
    } finally {
      await locker.query("ROLLBACK").catch(() => undefined);
      await locker.end();
      await watcher.end();
    }
    expect(settled).toHaveLength(2);
    for (const result of settled) {
      expect(result.status).toBe("rejected");
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(ServiceUnavailable);
      expect((result as PromiseRejectedResult).reason).toMatchObject({ message: "Service unavailable" });
    }

    const { rows } = await inOneTurn([
      [ivan, ivanSession],
      [ivan, null],
    ]);
    expect(rows).toEqual(
      await oneByOne([
        [ivan, ivanSession],
        [ivan, null],
      ]),
    );
  });

  it("fails every lookup of a batch as an outage when the database is unreachable", async () => {
    const admin = new URL(PG_ADMIN_URL);
    const proxy = await createTcpProxy({ host: admin.hostname, port: Number(admin.port || 5432) }, { open: false });
    const unreachable = createDb(proxy.urlFor(database.url));
    try {
      const settled = await Promise.allSettled(
        [randomUUID(), randomUUID(), randomUUID()].map((id) => unreachable.tokenSubjects.read(id, null)),
      );
      for (const result of settled) {
        expect(result.status).toBe("rejected");
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(ServiceUnavailable);
      }
    } finally {
      await unreachable.close();
      await proxy.close();
    }
  });

  it("does not batch inside a transaction: each lookup runs there, and sees the transaction's own writes", async () => {
    const judy = await newUser();
    const store = new UserStore(handle.db, undefined, handle.tokenSubjects);
    statements = [];
    const inside = await store.transaction(async (inTransaction, trx) => {
      await trx.updateTable("users").set({ disabled: 1 }).where("id", "=", judy).execute();
      return Promise.all([inTransaction.findTokenSubject(judy), inTransaction.findTokenSubject(judy)]);
    });
    expect(inside.map((subject) => subject?.user.disabled)).toEqual([true, true]);
    expect(statements.some((event) => /unnest/.test(event.query.sql))).toBe(false);
  });
});
