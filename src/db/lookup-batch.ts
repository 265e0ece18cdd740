/** Lookups gathered per event-loop turn and sent as one query of many keys (the PostgreSQL token-subject reader). */
import { ServiceUnavailable } from "../errors";

interface PendingLookup<Key, Value> {
  readonly key: Key;
  readonly resolve: (value: Value) => void;
  readonly reject: (error: unknown) => void;
}

export interface LookupBatchOptions<Key, Value> {
  /** Answers `keys` in one query: one value per key, in the order of `keys` (a key may repeat). */
  readonly many: (keys: readonly Key[]) => Promise<readonly Value[]>;
  /** Answers one key: a batch of one, and each key of a batch whose query failed other than by an outage. */
  readonly one: (key: Key) => Promise<Value>;
  /** The most keys one query takes; a turn that asks for more is split into several queries. */
  readonly maxKeys: number;
}

/**
 * Under load many requests look their caller up in the same turn of the event loop. Here the
 * lookups asked for during a turn go to the database at its end (`setImmediate`), as one query of
 * at most `maxKeys` keys, instead of one round trip each.
 *
 * Nothing is remembered between turns, and each lookup still sees everything committed before it
 * was asked for: the query starts after the last lookup of its batch was queued. An outage
 * (ServiceUnavailable, from db/outages.ts) fails every lookup of that query. Any other failure of
 * the query (one key the database refuses, say) fails no one by itself: each key is asked again
 * alone, so a lookup fails only when it would have failed on its own.
 */
export class LookupBatch<Key, Value> {
  private pending: PendingLookup<Key, Value>[] = [];

  constructor(private readonly options: LookupBatchOptions<Key, Value>) {
    if (!Number.isInteger(options.maxKeys) || options.maxKeys < 1) throw new Error("LookupBatch: maxKeys must be a positive integer");
  }

  /** Resolves with `key`'s value, read at the end of this turn; rejects as the query does. */
  load(key: Key): Promise<Value> {
    return new Promise<Value>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(this.flush);
      this.pending.push({ key, resolve, reject });
    });
  }

  private readonly flush = (): void => {
    const lookups = this.pending;
    this.pending = [];
    for (let start = 0; start < lookups.length; start += this.options.maxKeys) {
      void this.answer(lookups.slice(start, start + this.options.maxKeys));
    }
  };

  /** Never rejects: every lookup of `lookups` is settled, whatever the query does. */
  private async answer(lookups: readonly PendingLookup<Key, Value>[]): Promise<void> {
    if (lookups.length === 1) return this.answerAlone(lookups[0]!);
    let values: readonly Value[];
    try {
      values = await this.options.many(lookups.map((lookup) => lookup.key));
    } catch (error) {
      if (error instanceof ServiceUnavailable) for (const lookup of lookups) lookup.reject(error);
      else await Promise.all(lookups.map((lookup) => this.answerAlone(lookup)));
      return;
    }
    if (values.length !== lookups.length) {
      const error = new Error(`Invariant failed: LookupBatch got ${values.length} values for ${lookups.length} keys`);
      for (const lookup of lookups) lookup.reject(error);
      return;
    }
    lookups.forEach((lookup, i) => lookup.resolve(values[i] as Value));
  }

  private async answerAlone(lookup: PendingLookup<Key, Value>): Promise<void> {
    try {
      lookup.resolve(await this.options.one(lookup.key));
    } catch (error) {
      lookup.reject(error);
    }
  }
}
