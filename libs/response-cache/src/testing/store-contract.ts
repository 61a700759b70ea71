import { deepStrictEqual, ok, strictEqual } from 'node:assert/strict';
import type { ManualClock } from '../clock';
import { CacheEntry, CacheStore, keyFenceTag } from '../store/cache-store';
import { cacheEntry } from './entry-builder';

/** A store made for one test, with the clock it reads, and what releases it. */
export interface StoreUnderTest {
  store: CacheStore;
  clock: ManualClock;
  close?: () => Promise<void>;
}

/** The test functions of your runner: Jest's and Vitest's globals by default; pass `node:test`'s. */
export interface ContractRunner {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
}

type Case = (sut: StoreUnderTest) => Promise<void>;

/** A fresh entry for `key` whose fence is the store's current versions of `tags` and the key's own. */
async function entry({ store, clock }: StoreUnderTest, key: string, body: string, tags: string[] = []): Promise<CacheEntry> {
  const fence = await store.snapshot([...tags, keyFenceTag(key)]);
  return cacheEntry({ body, fence, headers: { 'content-type': 'application/json' } }, clock.now());
}

const CASES: Record<string, Case> = {
  'returns what was stored, byte for byte, and undefined for unknown keys': async (sut) => {
    const stored = await entry(sut, 'k1', '{"a":"é✓"}', ['t']);
    strictEqual(await sut.store.set('k1', stored, 60_000), true);
    deepStrictEqual(await sut.store.get('k1'), stored);
    strictEqual(await sut.store.get('nope'), undefined);
  },
  'drops an entry once its TTL has passed on the clock': async (sut) => {
    await sut.store.set('k', await entry(sut, 'k', 'x'), 10_000);
    sut.clock.advance(9_999);
    ok((await sut.store.get('k')) !== undefined);
    sut.clock.advance(1);
    strictEqual(await sut.store.get('k'), undefined);
  },
  'invalidating a tag removes every entry carrying it and nothing else': async (sut) => {
    const { store } = sut;
    await store.set('a', await entry(sut, 'a', 'A', ['users', 'user:1']), 60_000);
    await store.set('b', await entry(sut, 'b', 'B', ['users']), 60_000);
    await store.set('c', await entry(sut, 'c', 'C', ['posts']), 60_000);
    await store.invalidateTags(['user:1']);
    strictEqual(await store.get('a'), undefined);
    ok((await store.get('b')) !== undefined);
    await store.invalidateTags(['users']);
    strictEqual(await store.get('b'), undefined);
    ok((await store.get('c')) !== undefined);
  },
  'refuses a fill whose tag snapshot predates an invalidation (fill fence)': async (sut) => {
    const { store } = sut;
    const slow = await entry(sut, 'k', 'old data', ['users']);
    await store.invalidateTags(['users']);
    strictEqual(await store.set('k', slow, 60_000), false);
    strictEqual(await store.get('k'), undefined);
    strictEqual(await store.set('k', await entry(sut, 'k', 'new data', ['users']), 60_000), true);
    strictEqual((await store.get('k'))?.body, 'new data');
  },
  'delete removes a key and fences a fill of it that was in flight': async (sut) => {
    const { store } = sut;
    await store.set('k', await entry(sut, 'k', 'v1'), 60_000);
    const inFlight = await entry(sut, 'k', 'v2');
    strictEqual(await store.delete('k'), true);
    strictEqual(await store.get('k'), undefined);
    strictEqual(await store.set('k', inFlight, 60_000), false);
    strictEqual(await store.delete('k'), false);
    strictEqual(await store.set('k', await entry(sut, 'k', 'v3'), 60_000), true);
  },
  'clear removes everything and fences fills in flight': async (sut) => {
    const { store } = sut;
    await store.set('a', await entry(sut, 'a', 'A', ['t']), 60_000);
    const inFlight = await entry(sut, 'b', 'B', ['t']);
    await store.clear();
    strictEqual(await store.get('a'), undefined);
    strictEqual(await store.set('b', inFlight, 60_000), false);
    strictEqual((await store.stats()).entries, 0);
  },
  'lists keys by glob, page by page, without repeating any': async (sut) => {
    const { store } = sut;
    for (let i = 0; i < 25; i++) await store.set(`GET /api/users/${i}`, await entry(sut, `GET /api/users/${i}`, `u${i}`), 60_000);
    await store.set('GET /api/posts/1', await entry(sut, 'GET /api/posts/1', 'p'), 60_000);
    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.keys('GET /api/users/*', 10, cursor);
      for (const key of page.keys) {
        ok(!seen.has(key), `key ${key} listed twice`);
        seen.add(key);
      }
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined && pages < 100);
    strictEqual(seen.size, 25);
    ok([...seen].every((k) => k.startsWith('GET /api/users/')));
  },
  'reports entries and bytes, and answers ping': async (sut) => {
    await sut.store.set('a', await entry(sut, 'a', 'x'.repeat(1000)), 60_000);
    const stats = await sut.store.stats();
    strictEqual(stats.entries, 1);
    ok(stats.sizeBytes >= 1000, `sizeBytes ${stats.sizeBytes} < 1000`);
    strictEqual(await sut.store.ping(), undefined);
  },
};

/**
 * The contract every `CacheStore` passes (memory, Redis, tiered and Redis Cluster here): values
 * byte for byte, TTLs on the injected clock, tag invalidation, the fill fence, key deletes and
 * `clear` that fence fills in flight, paged key listings, stats and ping. Run it on your own store:
 *
 * ```ts
 * runStoreContract('my store', async () => ({ store: new MyStore({ clock }), clock }));
 * ```
 *
 * Each case makes a fresh store with `make` and releases it with its `close`. Assertions are
 * `node:assert`'s, so it runs under Jest, Vitest (globals) or `node:test` (pass `{ describe, it }`).
 */
export function runStoreContract(name: string, make: () => Promise<StoreUnderTest>, runner?: ContractRunner): void {
  const { describe, it } = runner ?? (globalThis as unknown as ContractRunner);
  describe(`CacheStore contract: ${name}`, () => {
    for (const [title, run] of Object.entries(CASES)) {
      it(title, async () => {
        const sut = await make();
        try {
          await run(sut);
        } finally {
          await sut.close?.();
        }
      });
    }
  });
}
