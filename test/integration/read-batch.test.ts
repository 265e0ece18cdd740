/** Reads gathered per event-loop turn: one transaction for a turn's reads, fresh data at every turn. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { SqliteReadBatch } from "../../src/db/read-batch";

describe("SqliteReadBatch (a real SQLite file in WAL mode)", () => {
  let dir: string;
  let writer: SqliteDatabase.Database;
  let reader: SqliteDatabase.Database;
  let select: SqliteDatabase.Statement;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "read-batch-"));
    writer = new SqliteDatabase(join(dir, "batch.db"));
    writer.pragma("journal_mode = WAL");
    writer.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, value TEXT NOT NULL)");
    writer.prepare("INSERT INTO t (id, value) VALUES (1, 'one'), (2, 'two'), (3, 'three')").run();
    reader = new SqliteDatabase(join(dir, "batch.db"), { readonly: true });
    select = reader.prepare("SELECT value FROM t WHERE id = ?");
  });
  afterEach(() => {
    if (reader.open) reader.close();
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const valueOf = (id: number) => () => (select.get(id) as { value: string } | undefined)?.value;

  it("answers each of a turn's reads with its own result, inside one transaction", async () => {
    const batch = new SqliteReadBatch(reader);
    const inTransaction: boolean[] = [];
    const reads = [1, 2, 3, 4].map((id) =>
      batch.run(() => {
        inTransaction.push(reader.inTransaction);
        return valueOf(id)();
      }),
    );
    expect(await Promise.all(reads)).toEqual(["one", "two", "three", undefined]);
    expect(inTransaction).toEqual([true, true, true, true]);
    expect(reader.inTransaction).toBe(false);
  });

  it("runs a read alone without a transaction", async () => {
    const batch = new SqliteReadBatch(reader);
    expect(await batch.run(() => reader.inTransaction)).toBe(false);
  });

  it("sees at the next turn what another connection committed after this turn", async () => {
    const batch = new SqliteReadBatch(reader);
    const first = await Promise.all([batch.run(valueOf(1)), batch.run(valueOf(2))]);
    writer.prepare("UPDATE t SET value = 'changed' WHERE id = 1").run();
    const second = await Promise.all([batch.run(valueOf(1)), batch.run(valueOf(2))]);
    expect(first).toEqual(["one", "two"]);
    expect(second).toEqual(["changed", "two"]);
  });

  it("sees a change committed after a read was queued but before the turn ended", async () => {
    const batch = new SqliteReadBatch(reader);
    const read = batch.run(valueOf(3));
    writer.prepare("UPDATE t SET value = 'late' WHERE id = 3").run();
    expect(await read).toBe("late");
  });

  it("fails only the read that throws; the others and the connection carry on", async () => {
    const batch = new SqliteReadBatch(reader);
    const reads = [batch.run(valueOf(1)), batch.run(() => reader.prepare("SELECT nope FROM t").get()), batch.run(valueOf(2))];
    const settled = await Promise.allSettled(reads);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((settled[1] as PromiseRejectedResult).reason.message).toMatch(/no such column/);
    expect(reader.inTransaction).toBe(false);
    expect(await batch.run(valueOf(2))).toBe("two");
  });

  it("fails every read of the turn when the connection is closed, with the driver's error", async () => {
    const batch = new SqliteReadBatch(reader);
    const reads = [batch.run(valueOf(1)), batch.run(valueOf(2))];
    reader.close();
    const settled = await Promise.allSettled(reads);
    for (const result of settled) {
      expect(result.status).toBe("rejected");
      expect((result as PromiseRejectedResult).reason.message).toMatch(/database connection is not open/);
    }
  });
});
