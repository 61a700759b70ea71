import { CacheEvents } from './cache-events';
import { CacheStats } from './cache-stats';

describe('CacheStats', () => {
  it('counts totals, per route, and the hit ratio', () => {
    const stats = new CacheStats(new CacheEvents());
    for (let i = 0; i < 3; i++) stats.record({ type: 'hit', route: '/a', key: 'k1' });
    stats.record({ type: 'miss', route: '/a' });
    stats.record({ type: 'miss', route: '/b' });
    stats.record({ type: 'bypass', reason: 'cookie' });
    stats.record({ type: 'store-error', operation: 'get' });
    const f = stats.figures();
    expect(f).toMatchObject({ hits: 3, misses: 2, hitRatio: 0.6, bypasses: 1, errors: 1 });
    expect(f.routes).toEqual([
      { route: '/a', hits: 3, misses: 1 },
      { route: '/b', hits: 0, misses: 1 },
    ]);
  });

  it('keeps the heavy keys in bounded memory, however many keys pass', () => {
    const stats = new CacheStats(new CacheEvents());
    for (let i = 0; i < 10_000; i++) {
      stats.record({ type: 'hit', route: '/r', key: `cold-${i}` });
      if (i % 10 === 0) stats.record({ type: 'hit', route: '/r', key: 'hot' });
    }
    const top = stats.figures(3).topKeys;
    expect(top[0].key).toBe('hot');
    expect((stats as unknown as { top: Map<string, number> }).top.size).toBeLessThanOrEqual(200);
  });
});
