/** SQLite statements prepared once per SQL text, instead of once per query as Kysely's driver does. */
import type SqliteDatabase from "better-sqlite3";
import { LRUCache } from "lru-cache";
import { type SqliteDatabase as KyselySqliteDatabase } from "kysely";

/** Enough for every query the stores build; queries with variable-length lists get evicted. */
const MAX_STATEMENTS = 256;

/**
 * Wraps a better-sqlite3 database for Kysely's SqliteDialect so that `prepare` returns a statement
 * made once per SQL text. Preparing costs more than running a lookup by primary key, and Kysely's
 * driver prepares on every call. Reuse is safe: the dialect runs one query at a time on its single
 * connection, and SQLite re-prepares a statement by itself after a schema change.
 */
export function withStatementCache(database: SqliteDatabase.Database): KyselySqliteDatabase {
  const statements = new LRUCache<string, SqliteDatabase.Statement>({ max: MAX_STATEMENTS });
  return {
    close: () => void database.close(),
    prepare: (sql) => {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
