/** Several processes migrating one database at once: each migration applied exactly once, nobody fails. */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { sql } from "kysely";
import { createDb } from "../../src/db/database";
import { migrateToLatest } from "../../src/db/migrate";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../harness";

const run = promisify(execFile);
const DIST = resolve(__dirname, "..", "..", "dist");
/**
 * One process that opens the database, waits for the agreed moment (so that all of them start
 * migrating together, as instances of one deploy do) and migrates, printing what it applied.
 */
const MIGRATE_ONCE = `
const { createDb } = require(${JSON.stringify(`${DIST}/db/database.js`)});
const { migrateToLatest } = require(${JSON.stringify(`${DIST}/db/migrate.js`)});
const handle = createDb(process.argv[1]);
setTimeout(() => migrateToLatest(handle.db).then(
  (applied) => handle.close().then(() => process.stdout.write(JSON.stringify(applied))),
  (error) => { process.stderr.write(String(error)); process.exit(1); },
), Number(process.argv[2]) - Date.now());`;

describe.each(DIALECTS)("migrations run by several processes at once (%s)", (dialect) => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await createTestDatabase(dialect);
  });
  afterEach(async () => database?.drop());

  it("applies each migration once and leaves every process with the schema current", async () => {
    // Separate processes: on SQLite the lock that matters is the file's, between processes.
    const startAt = String(Date.now() + 2_000);
    const outputs = await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, ["-e", MIGRATE_ONCE, database.url, startAt])));
    const applied = outputs.map(({ stdout }) => JSON.parse(stdout) as string[]);
    const appliers = applied.filter((names) => names.length > 0);
    expect(appliers).toHaveLength(1);

    const handle = createDb(database.url);
    try {
      // Recorded once each, and exactly what the one process that applied them reported.
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(handle.db);
      expect(rows.map((row) => row.name)).toEqual(appliers[0]);
      expect(appliers[0]).toContain("2026-11-29-01-users");
      expect(await migrateToLatest(handle.db)).toEqual([]);
      expect(await handle.db.selectFrom("users").selectAll().execute()).toEqual([]);
    } finally {
      await handle.close();
    }
  });
});
