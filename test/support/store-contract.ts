import { CacheEntry, CacheStore, ManualClock } from 'nestjs-response-cache';
import { keyFenceTag } from 'nestjs-response-cache/internal/store/cache-store';

export interface StoreUnderTest {
  store: CacheStore;
  clock: ManualClock;
  /** Releases what the factory made. */
  close?: () => Promise<void>;
}

/**
 * The contract every CacheStore must pass (memory now; Redis, tiered and Redis Cluster run the
 * same suite). Time moves with the injected clock, never by sleeping.
 */
export function runStoreContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`CacheStore contract: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: CacheStore;
    let clock: ManualClock;

    beforeEach(async () => {
      sut = await make();
      store = sut.store;
      clock = sut.clock;
    });
    afterEach(async () => {
      await sut.close?.();
    });

    async function entry(key: string, body: string, tags: string[] = []): Promise<CacheEntry> {
      const fence = await store.snapshot([...tags, keyFenceTag(key)]);
      const now = clock.now();
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body,
        etag: `W/"${body.length}"`,
        storedAt: now,
        expiresAt: now + 60_000,
        fence,
      };
    }

    it('returns what was stored, byte for byte, and undefined for unknown keys', async () => {
      const stored = await entry('k1', '{"a":"é✓"}', ['t']);
      expect(await store.set('k1', stored, 60_000)).toBe(true);
      expect(await store.get('k1')).toEqual(stored);
      expect(await store.get('nope')).toBeUndefined();
    });

    it('drops an entry once its TTL has passed on the clock', async () => {
      await store.set('k', await entry('k', 'x'), 10_000);
      clock.advance(9_999);
      expect(await store.get('k')).toBeDefined();
      clock.advance(1);
      expect(await store.get('k')).toBeUndefined();
    });

    it('invalidating a tag removes every entry carrying it and nothing else', async () => {
      await store.set('a', await entry('a', 'A', ['users', 'user:1']), 60_000);
      await store.set('b', await entry('b', 'B', ['users']), 60_000);
      await store.set('c', await entry('c', 'C', ['posts']), 60_000);
      await store.invalidateTags(['user:1']);
      expect(await store.get('a')).toBeUndefined();
      expect(await store.get('b')).toBeDefined();
      await store.invalidateTags(['users']);
      expect(await store.get('b')).toBeUndefined();
      expect(await store.get('c')).toBeDefined();
    });

    it('refuses a fill whose tag snapshot predates an invalidation (fill fence)', async () => {
      const slow = await entry('k', 'old data', ['users']);
      await store.invalidateTags(['users']);
      expect(await store.set('k', slow, 60_000)).toBe(false);
      expect(await store.get('k')).toBeUndefined();
      const fresh = await entry('k', 'new data', ['users']);
      expect(await store.set('k', fresh, 60_000)).toBe(true);
      expect((await store.get('k'))?.body).toBe('new data');
    });

    it('delete removes a key and fences a fill of it that was in flight', async () => {
      await store.set('k', await entry('k', 'v1'), 60_000);
      const inFlight = await entry('k', 'v2');
      expect(await store.delete('k')).toBe(true);
      expect(await store.get('k')).toBeUndefined();
      expect(await store.set('k', inFlight, 60_000)).toBe(false);
      expect(await store.delete('k')).toBe(false);
      expect(await store.set('k', await entry('k', 'v3'), 60_000)).toBe(true);
    });

    it('clear removes everything and fences fills in flight', async () => {
      await store.set('a', await entry('a', 'A', ['t']), 60_000);
      const inFlight = await entry('b', 'B', ['t']);
      await store.clear();
      expect(await store.get('a')).toBeUndefined();
      expect(await store.set('b', inFlight, 60_000)).toBe(false);
      expect((await store.stats()).entries).toBe(0);
    });

    it('lists keys by glob, page by page, without repeating any', async () => {
      for (let i = 0; i < 25; i++) await store.set(`GET /api/users/${i}`, await entry(`GET /api/users/${i}`, `u${i}`), 60_000);
      await store.set('GET /api/posts/1', await entry('GET /api/posts/1', 'p'), 60_000);
      const seen = new Set<string>();
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.keys('GET /api/users/*', 10, cursor);
        for (const key of page.keys) {
          expect(seen.has(key)).toBe(false);
          seen.add(key);
        }
        cursor = page.cursor;
        pages++;
      } while (cursor !== undefined && pages < 100);
      expect(seen.size).toBe(25);
      expect([...seen].every((k) => k.startsWith('GET /api/users/'))).toBe(true);
    });

    it('reports entries and bytes, and answers ping', async () => {
      await store.set('a', await entry('a', 'x'.repeat(1000)), 60_000);
      const stats = await store.stats();
      expect(stats.entries).toBe(1);
      expect(stats.sizeBytes).toBeGreaterThanOrEqual(1000);
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
