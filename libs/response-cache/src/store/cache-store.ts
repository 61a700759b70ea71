import { Inject } from '@nestjs/common';

/**
 * One cached response (or value), as the store keeps it. A hit sends `body` as it is:
 * nothing is parsed or re-serialized on the way out.
 */
export interface CacheEntry {
  /** HTTP status of the stored response. */
  status: number;
  /** The response's end-to-end headers (lower-case names), with `last-modified` formatted once. */
  headers: Record<string, string>;
  /**
   * The request's values of the headers that the response's `Vary` names (beyond those the key
   * holds), as `name=value` lines: a read by a request with other values is a miss.
   */
  variant?: string;
  /** The serialized body, exactly as sent to clients. */
  body: string;
  /** The body gzip-compressed, kept when compression is on and the body is over the threshold. */
  gzip?: Buffer;
  /** Strong or weak entity tag, computed once when stored (`W/"…"`). */
  etag: string;
  /** When the entry was stored (ms since epoch, from the cache clock). */
  storedAt: number;
  /** When the entry stops being fresh (ms since epoch). */
  expiresAt: number;
  /**
   * The fence: the entry's tags (after template expansion) plus its key's own fence tag
   * ({@link keyFenceTag}), with their versions read
   * *before* the handler ran. The entry is valid only while all of them are still current.
   */
  fence: TagSnapshot;
}

/** Versions of some tags at one moment, aligned by index. */
/** An entry before the engine attaches its fence. */
export type DraftEntry = Omit<CacheEntry, 'fence'>;

export interface TagSnapshot {
  readonly tags: readonly string[];
  readonly versions: readonly number[];
}

/** Pattern/cursor paging for key listings (never a blocking full scan). */
export interface KeyPage {
  keys: string[];
  /** Opaque cursor for the next page; undefined when the listing is complete. */
  cursor?: string;
}

export interface StoreStats {
  entries: number;
  sizeBytes: number;
}

/**
 * The contract every store implements (memory, Redis, tiered, or your own). It is both the
 * type and the injection token (`@InjectCacheStore()`), as in `@nestjs/throttler`.
 *
 * Race safety lives here: `get` only returns entries whose fence is still current, and `set`
 * refuses an entry whose fence is already stale. Invalidating a tag or deleting a key is one
 * atomic version bump, so a slow fill that began before an invalidation can never store, or
 * serve, what the invalidation removed.
 */
export interface CacheStore {
  /** Short name used in logs, metrics labels and health details (`memory`, `redis`, …). */
  readonly name: string;
  /**
   * True when every operation completes in-process and cannot hang (the memory store). Other
   * stores are wrapped with a timeout and a circuit breaker.
   */
  readonly local?: boolean;
  /**
   * The entry under `key`, if present, unexpired and not fenced off by an invalidation.
   * `fenceTags` are the tags the entry is expected to be fenced by: a remote store reads their
   * versions in the same round trip as the entry (and falls back to a second one if the entry
   * turns out to carry other tags).
   */
  get(key: string, fenceTags?: readonly string[]): Promise<CacheEntry | undefined>;
  /**
   * Optional: the entry under `key` if this process holds it (the memory store, a tiered store's
   * L1), read synchronously with the same checks as `get`; undefined sends the caller to `get`.
   * It never waits on anything, so it is neither timed nor counted by the circuit breaker.
   */
  peek?(key: string): CacheEntry | undefined;
  /**
   * Stores `entry` for `ttlMs` (the store may evict it earlier). Returns false, storing
   * nothing, when any version in `entry.fence` is no longer current.
   */
  set(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean>;
  /**
   * Current versions of `tags` (the snapshot a fill takes before running the handler). A store
   * may add tags of its own to the snapshot (a generation that `clear` bumps, say).
   */
  snapshot(tags: readonly string[]): Promise<TagSnapshot>;
  /** Bumps every tag's version: every entry that carries one of them is gone at once. */
  invalidateTags(tags: readonly string[]): Promise<void>;
  /** Deletes `key` and fences any fill of it that is still in flight. True if it existed. */
  delete(key: string): Promise<boolean>;
  /** Removes every entry of this cache (and nothing outside it). */
  clear(): Promise<void>;
  /** Keys matching a glob (`*`, `?`), paged by cursor. */
  keys(pattern: string, limit: number, cursor?: string): Promise<KeyPage>;
  /** Entry count and bytes held. */
  stats(): Promise<StoreStats>;
  /** Resolves when the store answers; rejects otherwise. */
  ping(): Promise<void>;
  /**
   * Resolves once the store can take operations (a remote store's first connection). The module
   * waits for it at startup, for a bounded time, so that the first requests find the store ready.
   */
  ready?(): Promise<void>;
  /** Releases connections and timers. */
  close?(): Promise<void>;
}

/** Injection token of the active store: `@Inject(CacheStore)` or `@InjectCacheStore()`. */
export const CacheStore = Symbol('CacheStore');

/** Injects the active {@link CacheStore}. */
export const InjectCacheStore = (): ParameterDecorator => Inject(CacheStore);

/**
 * The tag that fences a single key: `delete(key)` bumps it, and every fill snapshots it.
 * It starts with a control character, which user tags may not contain, so it cannot collide.
 */
export function keyFenceTag(key: string): string {
  return `\u0001key:${key}`;
}

/** True when every version in `fence` equals the current one in `current` (same order). */
export function fenceHolds(fence: TagSnapshot, current: readonly number[]): boolean {
  const versions = fence.versions;
  if (versions.length !== current.length) return false;
  for (let i = 0; i < versions.length; i++) {
    if (versions[i] !== current[i]) return false;
  }
  return true;
}

/** Approximate bytes an entry holds in memory (UTF-16 strings count 2 bytes a char). */
export function entrySize(key: string, entry: CacheEntry): number {
  let size =
    64 + key.length * 2 + entry.body.length * 2 + entry.etag.length * 2 + (entry.gzip?.length ?? 0) + (entry.variant?.length ?? 0) * 2;
  for (const name in entry.headers) size += (name.length + entry.headers[name].length) * 2;
  for (const tag of entry.fence.tags) size += tag.length * 2 + 8;
  return size;
}
