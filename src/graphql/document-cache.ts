/** Apollo's caches of parsed documents and persisted queries, bounded by the bytes their entries really hold. */
import { type DocumentNode } from "graphql";
import { LRUCache } from "lru-cache";

/**
 * The parsed-document cache's bound. A real client sends a few dozen distinct operations of a
 * few KiB each; anything beyond is an attacker's unique documents, which then only evict each other.
 */
export const DOCUMENT_CACHE_MAX_BYTES = 16 * 1024 * 1024;

/** The bound of the automatic persisted queries' cache (query texts by their hash). */
export const PERSISTED_QUERY_CACHE_MAX_BYTES = 4 * 1024 * 1024;

// Measured with node 20 (heap growth per retained parse, `--expose-gc`): about 300 to 390 bytes
// per token for the syntax tree, its locations and the token list, plus the source text and a
// little for the entry itself. Rounded up, so the estimate is never below what an entry holds.
const BYTES_PER_TOKEN = 400;
const BYTES_PER_ENTRY = 1024;

/**
 * What a cached document holds, in bytes, overestimated: Apollo's default measures the JSON of
 * the syntax tree, which leaves out the source text every node still references through
 * `loc.source` (a 60 kB comment counted as about 400 bytes) and the token list.
 */
export function documentBytes(document: DocumentNode, key: string): number {
  let tokens = 0;
  for (let token = document.loc?.startToken ?? null; token; token = token.next) tokens += 1;
  // A document parsed with `noLocation` holds no source and no tokens; count its nodes' JSON.
  const rest = document.loc ? stringBytes(document.loc.source.body) : JSON.stringify(document).length * 2;
  return BYTES_PER_ENTRY + stringBytes(key) + tokens * BYTES_PER_TOKEN + rest;
}

/** What a cached query text holds, in bytes, with its key and the entry. */
export function queryTextBytes(query: string, key: string): number {
  return BYTES_PER_ENTRY + stringBytes(key) + stringBytes(query);
}

/** V8 keeps a string of Latin-1 characters in one byte per character, any other in two. */
function stringBytes(text: string): number {
  // eslint-disable-next-line no-control-regex
  return /[^\u0000-\u00ff]/.test(text) ? text.length * 2 : text.length;
}

/**
 * An LRU cache with Apollo's KeyValueCache methods, for its `documentStore` or persisted-query cache, holding at
 * most `maxBytes` as `sizeOf` counts them; an entry larger than a quarter of that is not kept.
 */
export class ByteBoundedCache<V extends object | string> {
  private readonly cache: LRUCache<string, V>;

  constructor(maxBytes: number, sizeOf: (value: V, key: string) => number) {
    this.cache = new LRUCache<string, V>({ maxSize: maxBytes, maxEntrySize: Math.floor(maxBytes / 4), sizeCalculation: sizeOf });
  }

  /** The bytes held now, as counted; never above the bound. */
  get heldBytes(): number {
    return this.cache.calculatedSize;
  }

  async get(key: string): Promise<V | undefined> {
    return this.cache.get(key);
  }

  async set(key: string, value: V, options?: { ttl?: number | null }): Promise<void> {
    // Apollo's TTLs are in seconds, lru-cache's in milliseconds.
    this.cache.set(key, value, options?.ttl ? { ttl: options.ttl * 1000 } : undefined);
  }

  async delete(key: string): Promise<boolean> {
    return this.cache.delete(key);
  }
}

/** Apollo's `documentStore`: parsed and validated documents by query hash, bounded in bytes. */
export function createDocumentStore(maxBytes = DOCUMENT_CACHE_MAX_BYTES): ByteBoundedCache<DocumentNode> {
  return new ByteBoundedCache<DocumentNode>(maxBytes, documentBytes);
}

/** The persisted-query cache Apollo fills when a client registers a query by its hash. */
export function createPersistedQueryCache(maxBytes = PERSISTED_QUERY_CACHE_MAX_BYTES): ByteBoundedCache<string> {
  return new ByteBoundedCache<string>(maxBytes, queryTextBytes);
}
