/** Kysely queries compiled once and run with fresh parameters, for the lookups made on every request. */
import { type Database } from "./database";
import { type Compilable, type Kysely } from "kysely";

/**
 * Compiles `build(...sample)` once; each call runs that SQL with its own arguments as the
 * parameters. Building and compiling a query costs more than SQLite takes to answer it, and the
 * token-subject lookup runs on every authenticated request. The compiled SQL is the dialect's own
 * (`?` or `$1`), so this works on PostgreSQL as on SQLite. Nothing is kept outside the returned
 * function.
 * @throws Error at creation when the compiled parameters are not exactly `sample`, in order (a
 *   query with constants of its own, or arguments used twice, cannot be reused this way).
 */
export function preparedQuery<Row, Args extends readonly unknown[]>(
  db: Kysely<Database>,
  build: (...args: Args) => Compilable<Row>,
  sample: Args,
): (...args: Args) => Promise<Row[]> {
  const compiled = build(...sample).compile();
  const same = compiled.parameters.length === sample.length && compiled.parameters.every((p, i) => p === sample[i]);
  if (!same)
    throw new Error(`preparedQuery: parameters ${JSON.stringify(compiled.parameters)} are not the arguments ${JSON.stringify(sample)}`);
  return async (...args) => (await db.executeQuery<Row>({ ...compiled, parameters: args })).rows;
}
