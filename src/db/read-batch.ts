/** Reads on SQLite's read-only connection, gathered per event-loop turn into one read transaction. */
import type SqliteDatabase from "better-sqlite3";

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

interface PendingRead {
  readonly read: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Runs reads on one SQLite connection, together. A read transaction in WAL mode takes and drops a
 * lock on the WAL index: two `fcntl` calls, which on a virtual machine cost more than the lookup
 * itself. Under load many requests look their caller up in the same turn of the event loop; here
 * the reads asked for during a turn run at its end (`setImmediate`), in one read transaction.
 *
 * Nothing is remembered between turns, and each read still sees every change committed before it
 * was asked for: the transaction begins after the last read of the batch was queued. A batch of
 * one runs without BEGIN and COMMIT. A read that throws fails alone; a transaction that cannot
 * begin or end fails the whole batch, and the connection is never left inside a transaction.
 */
export class SqliteReadBatch {
  private pending: PendingRead[] = [];
  private readonly inOneTransaction: (reads: readonly PendingRead[]) => Settled[];

  constructor(connection: SqliteDatabase.Database) {
    // better-sqlite3's transaction wrapper: BEGIN, the function, COMMIT; ROLLBACK if any fails.
    this.inOneTransaction = connection.transaction((reads: readonly PendingRead[]) => reads.map(settle));
  }

  /** `read` runs synchronously at the end of this turn, in the batch's transaction. */
  run<T>(read: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(this.flush);
      this.pending.push({ read, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  private readonly flush = (): void => {
    const reads = this.pending;
    this.pending = [];
    let results: Settled[];
    try {
      results = reads.length === 1 ? [settle(reads[0]!)] : this.inOneTransaction(reads);
    } catch (error) {
      for (const read of reads) read.reject(error);
      return;
    }
    for (let i = 0; i < reads.length; i++) {
      const result = results[i]!;
      if (result.ok) reads[i]!.resolve(result.value);
      else reads[i]!.reject(result.error);
    }
  };
}

function settle(pending: PendingRead): Settled {
  try {
    return { ok: true, value: pending.read() };
  } catch (error) {
    return { ok: false, error };
  }
}
