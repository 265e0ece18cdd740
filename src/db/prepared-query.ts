/** Kysely queries compiled once and run with fresh parameters, for the lookups made on every request. */
import type SqliteDatabase from "better-sqlite3";
import { type Compilable, type Kysely } from "kysely";
import { SqliteReadBatch } from "./read-batch";

/**
 * Compiles `build(...sample)` once; each call runs that SQL with its own arguments as the
 * parameters. Building and compiling a query costs more than SQLite takes to answer it, and the
 * token-subject lookup runs on every authenticated request. The compiled SQL is the dialect's own
 * (`?` or `$1`), so this works on PostgreSQL as on SQLite.
 *
 * With `sqliteReader` (a read-only connection to the same SQLite file), the SQL becomes a
 * better-sqlite3 statement, prepared at the first call (the table may not exist before start-up
 * migrates) and run directly: no Kysely driver, no wait behind a transaction on the writing
 * connection, and only committed rows. Calls made in the same turn of the event loop run together
 * at its end, in one read transaction (see SqliteReadBatch).
 * @throws Error at creation when the compiled parameters are not exactly `sample`, in order (a
 *   query with constants of its own, or arguments used twice, cannot be reused this way).
 */
export function preparedQuery<Row, Args extends readonly unknown[]>(
  db: Kysely<any>,
  build: (...args: Args) => Compilable<Row>,
  sample: Args,
  sqliteReader?: SqliteDatabase.Database,
): (...args: Args) => Promise<Row[]> {
  const compiled = build(...sample).compile();
  const same = compiled.parameters.length === sample.length && compiled.parameters.every((p, i) => p === sample[i]);
  if (!same) throw new Error(`preparedQuery: parameters ${JSON.stringify(compiled.parameters)} are not the arguments ${JSON.stringify(sample)}`);
  if (sqliteReader) {
    const batch = batchOf(sqliteReader);
    let statement: SqliteDatabase.Statement | undefined;
    const read = (args: Args) => (statement ??= sqliteReader.prepare(compiled.sql)).all(...args) as Row[];
    return (...args) => batch.run(() => read(args));
  }
  return async (...args) => (await db.executeQuery<Row>({ ...compiled, parameters: args })).rows;
}

/** One batch per connection, so that every prepared query on it shares the turn's transaction. */
const batches = new WeakMap<SqliteDatabase.Database, SqliteReadBatch>();

function batchOf(connection: SqliteDatabase.Database): SqliteReadBatch {
  let batch = batches.get(connection);
  if (batch === undefined) batches.set(connection, (batch = new SqliteReadBatch(connection)));
  return batch;
}
