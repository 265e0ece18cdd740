/** isDatabaseUnavailable on the real drivers' errors (outages recognised, bugs not), and createDb's translation. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { sql } from "kysely";
import { Client } from "pg";
import { DIALECTS, PG_ADMIN_URL } from "../harness";
import { createDb } from "../../src/db/database";
import { isDatabaseUnavailable } from "../../src/db/faults";
import { ServiceUnavailable } from "../../src/errors";

/** The error a call really throws, from the real driver. */
async function caught(work: () => unknown): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

describe("isDatabaseUnavailable with better-sqlite3", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "faults-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("recognises SQLITE_BUSY (another process holds the write lock) and a closed database", async () => {
    const file = join(dir, "busy.db");
    const holder = new SqliteDatabase(file);
    const waiter = new SqliteDatabase(file);
    waiter.pragma("busy_timeout = 0");
    holder.exec("CREATE TABLE t (x INTEGER); BEGIN IMMEDIATE");
    const busy = await caught(() => waiter.exec("BEGIN IMMEDIATE"));
    expect((busy as { code?: string }).code).toBe("SQLITE_BUSY");
    expect(isDatabaseUnavailable(busy)).toBe(true);
    holder.exec("ROLLBACK");
    holder.close();
    waiter.close();
    expect(isDatabaseUnavailable(await caught(() => waiter.prepare("SELECT 1")))).toBe(true);
  });

  it("does not take a wrong query or a constraint violation for an outage", async () => {
    const db = new SqliteDatabase(join(dir, "bugs.db"));
    db.exec("CREATE TABLE u (name TEXT UNIQUE); INSERT INTO u VALUES ('a')");
    expect(isDatabaseUnavailable(await caught(() => db.exec("INSERT INTO u VALUES ('a')")))).toBe(false);
    expect(isDatabaseUnavailable(await caught(() => db.exec("SELEC 1")))).toBe(false);
    expect(isDatabaseUnavailable(await caught(() => db.exec("SELECT * FROM missing")))).toBe(false);
    db.close();
  });

  it("recognises a query on a Kysely database already closed (requests in flight at shutdown)", async () => {
    const handle = createDb(`sqlite:${join(dir, "closed.db")}`);
    await sql`select 1`.execute(handle.db);
    await handle.close();
    const error = await caught(() => sql`select 1`.execute(handle.db));
    expect(error).toBeInstanceOf(ServiceUnavailable);
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it("translates an outage once, at the database: Kysely's queries and transactions throw it", async () => {
    const file = join(dir, "locked.db");
    const handle = createDb(`sqlite:${file}`);
    const holder = new SqliteDatabase(file);
    try {
      await sql`create table t (x integer unique)`.execute(handle.db);
      await sql`insert into t values (1)`.execute(handle.db);
      // A unique violation stays the driver's error, for the stores to map.
      const unique = await caught(() => sql`insert into t values (1)`.execute(handle.db));
      expect(unique).not.toBeInstanceOf(ServiceUnavailable);
      expect((unique as { code?: string }).code).toBe("SQLITE_CONSTRAINT_UNIQUE");
      holder.pragma("busy_timeout = 0");
      holder.exec("BEGIN EXCLUSIVE");
      const insert = () => handle.db.transaction().execute((trx) => sql`insert into t values (2)`.execute(trx));
      const busy = await caught(insert);
      expect(busy).toBeInstanceOf(ServiceUnavailable);
      expect(((busy as ServiceUnavailable).cause as { code?: string }).code).toMatch(/^SQLITE_BUSY/);
    } finally {
      holder.close();
      await handle.close();
    }
  });
});

(DIALECTS.includes("postgres") ? describe : describe.skip)("isDatabaseUnavailable with pg", () => {
  it("recognises a refused connection, through the pool and Kysely as the app meets it", async () => {
    const handle = createDb("postgres://postgres@127.0.0.1:1/postgres");
    try {
      const refused = await caught(() => sql`select 1`.execute(handle.db));
      expect(refused).toBeInstanceOf(ServiceUnavailable);
      expect(((refused as ServiceUnavailable).cause as { code?: string }).code).toBe("ECONNREFUSED");
    } finally {
      await handle.close();
    }
  });

  it("recognises a connection terminated by the server (57P01)", async () => {
    const victim = new Client({ connectionString: PG_ADMIN_URL });
    const killer = new Client({ connectionString: PG_ADMIN_URL });
    await victim.connect();
    await killer.connect();
    victim.on("error", () => undefined);
    try {
      const { rows } = await victim.query("SELECT pg_backend_pid() AS pid");
      const pending = caught(() => victim.query("SELECT pg_sleep(30)"));
      await killer.query("SELECT pg_terminate_backend($1)", [rows[0].pid]);
      const terminated = await pending;
      expect((terminated as { code?: string }).code).toBe("57P01");
      expect(isDatabaseUnavailable(terminated)).toBe(true);
      expect(isDatabaseUnavailable(await caught(() => victim.query("SELECT 1")))).toBe(true);
    } finally {
      await killer.end();
      await victim.end().catch(() => undefined);
    }
  });

  it("does not take a syntax error or a unique violation for an outage", async () => {
    const client = new Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
    try {
      expect(isDatabaseUnavailable(await caught(() => client.query("SELEC 1")))).toBe(false);
      await client.query("CREATE TEMP TABLE u (name text UNIQUE); INSERT INTO u VALUES ('a')");
      expect(isDatabaseUnavailable(await caught(() => client.query("INSERT INTO u VALUES ('a')")))).toBe(false);
    } finally {
      await client.end();
    }
  });
});
