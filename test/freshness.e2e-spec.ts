import { CacheEngine } from 'nestjs-response-cache/internal/engine/cache-engine';
import type { ResponseCacheModuleOptions } from 'nestjs-response-cache';
import { ADAPTERS } from './support/boot-app';
import { RunningFixture, dbQueries, startFixture } from './support/fixture-api';

describe.each(ADAPTERS)('stale-while-revalidate and stale-if-error on %s', (adapter) => {
  let fixture: RunningFixture;
  const get = (path = '/api/users/1') => fetch(`${fixture.url}${path}`);
  const name = async (res: Response) => ((await res.json()) as { user: { name: string } }).user.name;
  /** Changes the row behind the cache's back, so that a refresh is visible. */
  const rename = (to: string) => {
    fixture.data.users.get(1)!.name = to;
  };
  const settle = () => fixture.app.get(CacheEngine).settle();

  async function boot(cacheOptions: Partial<ResponseCacheModuleOptions>) {
    fixture = await startFixture(adapter, { ttl: 10, ...cacheOptions });
  }
  afterEach(async () => {
    await fixture.close();
  });

  it('serves a stale entry at once and refreshes it in the background, once per key', async () => {
    // 100 ms of database latency keeps the refresh running while the ten requests are answered.
    await boot({ staleWhileRevalidate: 60 });
    fixture.data.settings.latencyMs = 100;
    expect(await name(await get())).toBe('Ada Lovelace');
    rename('Ada (refreshed)');
    fixture.clock.advance(12_000);
    const before = dbQueries(fixture);
    const stale = await Promise.all(Array.from({ length: 10 }, () => get()));
    for (const res of stale) {
      expect(res.headers.get('x-cache')).toBe('STALE');
      expect(res.headers.get('cache-status')).toBe('ResponseCache; hit; ttl=-2');
      expect(await name(res)).toBe('Ada Lovelace');
    }
    await settle();
    expect(dbQueries(fixture)).toBe(before + 1); // one refresh for ten stale requests
    const fresh = await get();
    expect(fresh.headers.get('x-cache')).toBe('HIT');
    expect(await name(fresh)).toBe('Ada (refreshed)');
  });

  it('past the window, a stale entry is a miss', async () => {
    await boot({ staleWhileRevalidate: 60 });
    await get();
    fixture.clock.advance(70_000);
    expect((await get()).headers.get('x-cache')).toBe('MISS');
  });

  it('serves the stale entry instead of a 5xx from the origin, inside the stale-if-error window', async () => {
    await boot({ staleIfError: 300 });
    expect((await get()).status).toBe(200);
    fixture.clock.advance(20_000);
    fixture.data.settings.failureRate = 1;
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-cache')).toBe('STALE');
    expect(res.headers.get('cache-status')).toBe('ResponseCache; fwd=stale; fwd-status=503; ttl=-10');
    expect(await name(res)).toBe('Ada Lovelace');
    const metrics = await fixture.metrics();
    expect(metrics).toMatch(/^cache_stale_total\{route="\/api\/users\/:id",reason="stale-if-error"\} 1$/m);

    fixture.clock.advance(300_000); // past the window: the error goes through
    expect((await get()).status).toBe(503);
  });

  it('a 4xx from the origin is not an error to hide', async () => {
    await boot({ staleIfError: 300 });
    await get();
    fixture.clock.advance(20_000);
    fixture.data.users.delete(1);
    expect((await get()).status).toBe(404);
  });

  it('mustRevalidate never serves stale', async () => {
    await boot({ staleWhileRevalidate: 60, staleIfError: 300, mustRevalidate: true });
    await get();
    fixture.clock.advance(12_000);
    expect((await get()).headers.get('x-cache')).toBe('MISS');
    fixture.clock.advance(12_000);
    fixture.data.settings.failureRate = 1;
    expect((await get()).status).toBe(503);
  });
});
