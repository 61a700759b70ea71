import type { CacheEntry, TagSnapshot } from '../store/cache-store';

/** What {@link cacheEntry} takes: any field of an entry, and `body` as a string or a JSON value. */
export type CacheEntryInit = Partial<Omit<CacheEntry, 'body'>> & { body?: string | object };

const NO_FENCE: TagSnapshot = { tags: [], versions: [] };

/**
 * A `CacheEntry` for tests: a 200 JSON response stored at `storedAt` (default now), fresh for
 * 60 s, with a weak ETag of its body, no fence; every field can be given. A store's `set` needs a
 * real fence: take it from `store.snapshot(tags)`.
 */
export function cacheEntry(init: CacheEntryInit = {}, now = Date.now()): CacheEntry {
  const body = init.body === undefined ? '{}' : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  const storedAt = init.storedAt ?? now;
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    etag: `W/"${Buffer.byteLength(body).toString(16)}"`,
    expiresAt: storedAt + 60_000,
    fence: NO_FENCE,
    ...init,
    body,
    storedAt,
  };
}
