import { CacheStats } from './cache-stats';

describe('CacheStats', () => {
  it('counts totals, per route, and the hit ratio', () => {
    const stats = new CacheStats();
    for (let i = 0; i < 3; i++) stats.request('hit', '/a', 'k1');
    stats.request('miss', '/a', 'k1');
    stats.request('miss', '/b', 'k2');
    stats.request('bypass', '/b', undefined);
    stats.storeError();
    const f = stats.figures();
    expect(f).toMatchObject({ hits: 3, misses: 2, hitRatio: 0.6, bypasses: 1, errors: 1 });
    expect(f.routes).toEqual([
      { route: '/a', hits: 3, misses: 1 },
      { route: '/b', hits: 0, misses: 1 },
    ]);
  });

  it('counts stale and coalesced answers as hits too', () => {
    const stats = new CacheStats();
    stats.request('stale', '/a', 'k');
    stats.request('coalesced', '/a', 'k');
    expect(stats.figures()).toMatchObject({ hits: 2, stale: 1, coalesced: 1, topKeys: [{ key: 'k', hits: 2 }] });
  });

  it('keeps the heavy keys in bounded memory, however many keys pass', () => {
    const stats = new CacheStats();
    for (let i = 0; i < 10_000; i++) {
      stats.request('hit', '/r', `cold-${i}`);
      if (i % 10 === 0) stats.request('hit', '/r', 'hot');
    }
    const top = stats.figures(3).topKeys;
    expect(top[0].key).toBe('hot');
    expect((stats as unknown as { top: Map<string, number> }).top.size).toBeLessThanOrEqual(200);
  });

  it('keeps the last 20 invalidations, newest first', () => {
    const stats = new CacheStats();
    for (let i = 0; i < 25; i++) stats.invalidation('tag', `t${i}`);
    stats.invalidation('clear', '');
    const f = stats.figures();
    expect(f.invalidations).toBe(26);
    expect(f.recentInvalidations).toHaveLength(20);
    expect(f.recentInvalidations[0]).toMatchObject({ type: 'clear', target: '' });
    expect(f.recentInvalidations[1]).toMatchObject({ type: 'tag', target: 't24' });
  });
});
