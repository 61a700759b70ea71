import { ManualClock } from '../clock';
import { runStoreContract } from '../testing';
import { keyFenceTag } from './cache-store';
import { MemoryCacheStore } from './memory.store';

runStoreContract('memory', async () => {
  const clock = new ManualClock();
  return { store: new MemoryCacheStore({ clock }), clock };
});

describe('MemoryCacheStore bounds', () => {
  const entryOf = (store: MemoryCacheStore, key: string, body: string, clock: ManualClock) =>
    store
      .snapshot([keyFenceTag(key)])
      .then((fence) => ({ status: 200, headers: {}, body, etag: 'W/"x"', storedAt: clock.now(), expiresAt: clock.now() + 1000, fence }));

  it('stays within maxSizeBytes by evicting the least recently used entries', async () => {
    const clock = new ManualClock();
    const store = new MemoryCacheStore({ clock, maxSizeBytes: 50_000 });
    for (let i = 0; i < 20; i++) await store.set(`k${i}`, await entryOf(store, `k${i}`, 'x'.repeat(5_000), clock), 60_000);
    const stats = await store.stats();
    expect(stats.sizeBytes).toBeLessThanOrEqual(50_000);
    expect(stats.entries).toBeLessThan(20);
    expect(await store.get('k19')).toBeDefined();
    expect(await store.get('k0')).toBeUndefined();
  });

  it('refuses an entry larger than the whole bound', async () => {
    const clock = new ManualClock();
    const store = new MemoryCacheStore({ clock, maxSizeBytes: 10_000 });
    expect(await store.set('big', await entryOf(store, 'big', 'x'.repeat(20_000), clock), 60_000)).toBe(false);
  });

  it('an evicted tag version never makes an invalidated entry valid again', async () => {
    const clock = new ManualClock();
    const store = new MemoryCacheStore({ clock, maxTags: 2 });
    const fence = await store.snapshot(['a']);
    const stale = { status: 200, headers: {}, body: 'old', etag: 'W/"1"', storedAt: 0, expiresAt: 1e15, fence };
    await store.invalidateTags(['a']);
    await store.invalidateTags(['b']);
    await store.invalidateTags(['c']); // evicts the version of "a"
    expect(await store.set('k', stale, 60_000)).toBe(false);
  });
});
