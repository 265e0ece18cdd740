/** Kysely queries compiled once and run with fresh parameters, for the lookups made on every request. */
import type SqliteDatabase from "better-sqlite3";
import { type Compilable, type Kysely } from "kysely";

/**
 * Compiles `build(...sample)` once; each call runs that SQL with its own arguments as the
 * parameters. Building and compiling a query costs more than SQLite takes to answer it, and the
 * token-subject lookup runs on every authenticated request. The compiled SQL is the dialect's own
 * (`?` or `$1`), so this works on PostgreSQL as on SQLite.
 *
 * With `sqliteReader` (a read-only connection to the same SQLite file), the SQL becomes a
 * better-sqlite3 statement, prepared at the first call (the table may not exist before start-up
 * migrates) and run directly: no Kysely driver, no wait behind a transaction on the writing
 * connection, and only committed rows.
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
    let statement: SqliteDatabase.Statement | undefined;
    return async (...args) => (statement ??= sqliteReader.prepare(compiled.sql)).all(...args) as Row[];
  }
  return async (...args) => (await db.executeQuery<Row>({ ...compiled, parameters: args })).rows;
}
