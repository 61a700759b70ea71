import { CacheEngine } from 'nestjs-response-cache/internal/engine/cache-engine';
import { ADAPTERS, RunningDemo, dbQueries, startDemo } from './support/demo-app';

const TOKEN = 'test-admin-token';

describe.each(ADAPTERS)('stale-while-revalidate and stale-if-error on %s', (adapter) => {
  let demo: RunningDemo;
  const get = (path = '/api/users/1') => fetch(`${demo.url}${path}`);
  const name = async (res: Response) => ((await res.json()) as { user: { name: string } }).user.name;
  /** Changes the row behind the cache's back, so that a refresh is visible. */
  const rename = (to: string) => demo.sql('UPDATE users SET name = $1 WHERE id = 1', [to]);
  const setDb = (body: object) =>
    fetch(`${demo.url}/admin/demo/db`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });
  const settle = () => demo.app.get(CacheEngine).settle();

  async function boot(env: Record<string, string>, cacheOptions?: object) {
    demo = await startDemo(adapter, { CACHE_TTL_SECONDS: '10', CACHE_ADMIN_TOKEN: TOKEN, ...env }, cacheOptions);
  }
  afterEach(async () => {
    await demo.close();
  });

  it('serves a stale entry at once and refreshes it in the background, once per key', async () => {
    // 100 ms of database latency keeps the refresh running while the ten requests are answered.
    await boot({ CACHE_STALE_WHILE_REVALIDATE_SECONDS: '60', DEMO_DB_LATENCY_MS: '100' });
    expect(await name(await get())).toBe('Ada Lovelace');
    await rename('Ada (refreshed)');
    demo.clock.advance(12_000);
    const before = await dbQueries(demo);
    const stale = await Promise.all(Array.from({ length: 10 }, () => get()));
    for (const res of stale) {
      expect(res.headers.get('x-cache')).toBe('STALE');
      expect(res.headers.get('cache-status')).toBe('ResponseCache; hit; ttl=-2');
      expect(await name(res)).toBe('Ada Lovelace');
    }
    await settle();
    expect(await dbQueries(demo)).toBe(before + 1); // one refresh for ten stale requests
    const fresh = await get();
    expect(fresh.headers.get('x-cache')).toBe('HIT');
    expect(await name(fresh)).toBe('Ada (refreshed)');
  });

  it('past the window, a stale entry is a miss', async () => {
    await boot({ CACHE_STALE_WHILE_REVALIDATE_SECONDS: '60' });
    await get();
    demo.clock.advance(70_000);
    expect((await get()).headers.get('x-cache')).toBe('MISS');
  });

  it('serves the stale entry instead of a 5xx from the origin, inside the stale-if-error window', async () => {
    await boot({ CACHE_STALE_IF_ERROR_SECONDS: '300' });
    expect((await get()).status).toBe(200);
    demo.clock.advance(20_000);
    expect((await setDb({ failureRate: 1 })).status).toBe(200);
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-cache')).toBe('STALE');
    expect(res.headers.get('cache-status')).toBe('ResponseCache; fwd=stale; fwd-status=503; ttl=-10');
    expect(await name(res)).toBe('Ada Lovelace');
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(/^cache_stale_total\{route="\/api\/users\/:id",reason="stale-if-error"\} 1$/m);

    demo.clock.advance(300_000); // past the window: the error goes through
    expect((await get()).status).toBe(503);
  });

  it('a 4xx from the origin is not an error to hide', async () => {
    await boot({ CACHE_STALE_IF_ERROR_SECONDS: '300' });
    await get();
    demo.clock.advance(20_000);
    await demo.sql('DELETE FROM users WHERE id = 1');
    expect((await get()).status).toBe(404);
  });

  it('mustRevalidate never serves stale', async () => {
    await boot({ CACHE_STALE_WHILE_REVALIDATE_SECONDS: '60', CACHE_STALE_IF_ERROR_SECONDS: '300' }, { mustRevalidate: true });
    await get();
    demo.clock.advance(12_000);
    expect((await get()).headers.get('x-cache')).toBe('MISS');
    demo.clock.advance(12_000);
    await setDb({ failureRate: 1 });
    expect((await get()).status).toBe(503);
  });

  it('PUT /admin/demo/db needs the admin token and validates its body', async () => {
    await boot({});
    const noToken = await fetch(`${demo.url}/admin/demo/db`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"latencyMs":1}',
    });
    expect(noToken.status).toBe(401);
    const wrong = await fetch(`${demo.url}/admin/demo/db`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: 'Bearer nope' },
      body: '{}',
    });
    expect(wrong.status).toBe(401);
    expect((await setDb({ failureRate: 2 })).status).toBe(400);
    expect(await (await setDb({ latencyMs: 5 })).json()).toEqual({ latencyMs: 5, failureRate: 0 });
  });
});
