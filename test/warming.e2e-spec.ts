import { Logger } from '@nestjs/common';
import { CacheStore } from 'nestjs-response-cache';
import { ADAPTERS, RunningDemo, dbQueries, rawRequest, startDemo } from './support/demo-app';
import { eventually } from './support/redis-stores';

const TOKEN = 'warm-admin-token';

describe('cache warming', () => {
  let demo: RunningDemo;
  afterEach(async () => {
    await demo.close();
  });

  /**
   * Entries in the demo's store. A warming request's response leaves before its entry is written
   * (the write goes on in the background), so a test waits for the entries, not for the response.
   */
  const stored = async () => (await demo.app.get<CacheStore>(CacheStore).stats()).entries;

  /** A client request as the warmer keys it: Host localhost:<port>. */
  const asClient = (path: string) => rawRequest(demo.url, { path, headers: { host: `localhost:${new URL(demo.url).port}` } });

  it('warms the configured paths once the server listens, through the app pipeline', async () => {
    demo = await startDemo('fastify', { CACHE_WARM_PATHS: '/api/users,/api/posts?page=1' });
    await eventually(async () => (await dbQueries(demo)) === 2, 'the two warming requests');
    await eventually(async () => (await stored()) === 2, 'the two warmed entries stored');
    expect((await asClient('/api/users')).headers['x-cache']).toBe('HIT');
    expect((await asClient('/api/posts?page=1')).headers['x-cache']).toBe('HIT');
    expect(await dbQueries(demo)).toBe(2);
  });

  it('warms again on schedule, refreshing entries that are still fresh', async () => {
    demo = await startDemo('express', { CACHE_WARM_PATHS: '/api/users', CACHE_WARM_INTERVAL_SECONDS: '0.1' });
    await eventually(async () => (await dbQueries(demo)) >= 3, 'three warming rounds');
    expect((await asClient('/api/users')).headers['x-cache']).toBe('HIT');
  });

  it('warms on demand through POST /admin/cache/warm, behind the admin token', async () => {
    demo = await startDemo('fastify', { CACHE_ADMIN_TOKEN: TOKEN });
    const call = (body: unknown, token = TOKEN) =>
      fetch(`${demo.url}/admin/cache/warm`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    expect((await call({ paths: ['/api/users/2'] }, 'wrong')).status).toBe(401);
    expect((await call({ paths: 'nope' })).status).toBe(400);
    expect((await call({ paths: ['no-slash'] })).status).toBe(400);
    const res = await call({ paths: ['/api/users/2', '/api/users/999'] });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: { path: string; status: number; xCache: string }[] };
    expect(results.map((r) => [r.path, r.status, r.xCache])).toEqual([
      ['/api/users/2', 200, 'MISS'],
      ['/api/users/999', 404, 'MISS'],
    ]);
    // Warmed under the Host of the admin request (fetch's 127.0.0.1:<port>): that client hits.
    expect((await fetch(`${demo.url}/api/users/2`)).headers.get('x-cache')).toBe('HIT');
  });

  it('a failing path is logged and counted, never fatal', async () => {
    demo = await startDemo('express', { CACHE_WARM_PATHS: '/api/users/999,/api/users' });
    await eventually(async () => (await dbQueries(demo)) === 2, 'both warming requests');
    await eventually(async () => (await stored()) === 1, 'the warmed entry stored (the 404 is not)');
    expect((await asClient('/api/users')).headers['x-cache']).toBe('HIT');
    const health = await fetch(`${demo.url}/health`);
    expect(health.status).toBe(200);
  });
});

describe.each(ADAPTERS)('warming under the hosts clients use (%s)', (adapter) => {
  let demo: RunningDemo;
  afterEach(async () => {
    await demo?.close();
  });

  const warm = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${demo.url}/admin/cache/warm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
      body: JSON.stringify(body),
    });
  const xCacheAt = async (path: string, host: string) => (await rawRequest(demo.url, { path, headers: { host } })).headers['x-cache'];

  it("POST /admin/cache/warm warms under the caller's own Host: its next GET of each path is a HIT", async () => {
    demo = await startDemo(adapter, { CACHE_ADMIN_TOKEN: TOKEN });
    const response = await warm({ paths: ['/api/users', '/api/posts/1'] });
    const { results } = (await response.json()) as { results: { path: string; host: string; xCache: string }[] };
    const host = new URL(demo.url).host; // what fetch sends: 127.0.0.1:<port>
    expect(results.map((r) => [r.path, r.host, r.xCache])).toEqual([
      ['/api/users', host, 'MISS'],
      ['/api/posts/1', host, 'MISS'],
    ]);
    for (const path of ['/api/users', '/api/posts/1']) {
      expect((await fetch(`${demo.url}${path}`)).headers.get('x-cache')).toBe('HIT');
    }
  });

  it('warms under the host named in the body, and only that host hits', async () => {
    demo = await startDemo(adapter, { CACHE_ADMIN_TOKEN: TOKEN });
    const { results } = (await (await warm({ paths: ['/api/users/1'], host: 'api.test' })).json()) as { results: { host: string }[] };
    expect(results.map((r) => r.host)).toEqual(['api.test']);
    expect(await xCacheAt('/api/users/1', 'api.test')).toBe('HIT');
    expect(await xCacheAt('/api/users/1', 'other.test')).toBe('MISS');
    expect((await warm({ paths: ['/api/users'], host: 'bad host/x' })).status).toBe(400);
    expect((await warm({ paths: ['/api/users'], host: [] })).status).toBe(400);
  });

  it('startup warming with warm.host (a list) is hit by clients using those hosts, not others', async () => {
    demo = await startDemo(adapter, { CACHE_WARM_PATHS: '/api/users', CACHE_WARM_HOST: 'api.test,www.api.test' });
    await eventually(async () => (await dbQueries(demo)) === 2, 'the warming requests under both hosts');
    expect(await xCacheAt('/api/users', 'api.test')).toBe('HIT');
    expect(await xCacheAt('/api/users', 'www.api.test')).toBe('HIT');
    expect(await xCacheAt('/api/users', `localhost:${new URL(demo.url).port}`)).toBe('MISS');
  });
});

describe('the startup line about the warming host', () => {
  const lines = jest.spyOn(Logger.prototype, 'log');
  afterAll(() => lines.mockRestore());

  it.each([
    ['paths, keys with the host, no warm.host', { CACHE_WARM_PATHS: '/api/users' }, undefined, 1],
    ['warm.host set', { CACHE_WARM_PATHS: '/api/users', CACHE_WARM_HOST: 'api.test' }, undefined, 0],
    ['keys without the host', { CACHE_WARM_PATHS: '/api/users' }, { keyIncludesHost: false }, 0],
    ['nothing to warm', { CACHE_WARM_PATHS: '' }, undefined, 0],
  ])('%s: %#', async (_, env, cacheOptions, expected) => {
    lines.mockClear();
    const demo = await startDemo('express', env, cacheOptions);
    try {
      const port = new URL(demo.url).port;
      const said = lines.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('warmed entries'));
      expect(said).toHaveLength(expected);
      if (expected === 1) expect(said[0]).toMatch(new RegExp(`under Host localhost:${port}: .* Set warm\\.host`));
    } finally {
      await demo.close();
    }
  });
});
