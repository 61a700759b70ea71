import { weakEtag } from '../http/etag';
import type { CacheEntry, DraftEntry } from '../store/cache-store';

export type { DraftEntry } from '../store/cache-store';

/** What a fill's producer returns: the value for its own caller, and the entry to store, if any. */
export interface Produced<T> {
  value: T;
  entry?: DraftEntry;
  /** How long the store keeps this entry, in ms, when it differs from the fill's (freshness from the response). */
  retainMs?: number;
  /**
   * The key the entry belongs under when it is not the fill's: the response varies on request
   * headers that the fill's key did not hold yet (its first `Vary`), so it is stored under the key
   * that holds them, where the next request of the same variant looks.
   */
  storeKey?: string;
  /** Tags learned from the value (`resultTags`): the entry is fenced by them too (see fill-epoch.ts). */
  tags?: readonly string[];
}

/** What a fill runs to produce its value (the handler, for the interceptor). */
export type Producer<T> = () => Promise<Produced<T>>;

/** How a fill runs. */
export interface FillOptions {
  /** The producer may name tags of its result (`Produced.tags`): the fill reads the invalidation epoch first. */
  resultTags?: boolean;
}

/** `written`: the fenced write of `entry` (false when the store refused it: an invalidation overtook the fill). */
export type FillResult<T> =
  { collapsed: false; value: T; entry?: CacheEntry; written?: Promise<boolean> } | { collapsed: true; entry: CacheEntry };

/** Options of the value-level API. Durations in seconds. */
export interface CacheSetOptions {
  /** Freshness in seconds. Default: the module's `ttl`. */
  ttl?: number;
  /** Tags for `invalidateTags`. */
  tags?: readonly string[];
}

/** Marks a read that failed in the store (the caller goes on without the cache). */
export const STORE_FAILED = Symbol('STORE_FAILED');

/** The entry of a JSON value (the value-level API): its JSON, a weak ETag, fresh for `ttlMs` from `now`. */
export function valueEntry(value: unknown, now: number, ttlMs: number): DraftEntry {
  const body = JSON.stringify(value);
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'last-modified': new Date(now).toUTCString() },
    body,
    etag: weakEtag(body),
    storedAt: now,
    expiresAt: now + ttlMs,
  };
}

/** What a lookup found: an entry (fresh or not), nothing, or a store that failed. */
export type Found = CacheEntry | undefined | typeof STORE_FAILED;
