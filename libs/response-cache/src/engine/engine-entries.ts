import { weakEtag } from '../http/etag';
import type { CacheEntry } from '../store/cache-store';

/** An entry before the engine attaches its fence. */
export type DraftEntry = Omit<CacheEntry, 'fence'>;

/** What a fill's producer returns: the value for its own caller, and the entry to store, if any. */
export interface Produced<T> {
  value: T;
  entry?: DraftEntry;
  /** How long the store keeps this entry, in ms, when it differs from the fill's (freshness from the response). */
  retainMs?: number;
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

export type FillResult<T> = { collapsed: false; value: T; entry?: CacheEntry } | { collapsed: true; entry: CacheEntry };

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
