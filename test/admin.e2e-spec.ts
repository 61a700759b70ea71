import { ADAPTERS, RunningDemo, startDemo, xCacheOf } from './support/demo-app';

const TOKEN = 'admin-secret-token';

describe.each(ADAPTERS)('admin API on %s', (adapter) => {
  let demo: RunningDemo;
  /** An admin call; `token: null` sends no Authorization. The body is always read (a pending one holds the connection). */
  const admin = async (method: string, path: string, body?: unknown, token: string | null = TOKEN) => {
    const res = await fetch(`${demo.url}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: () => JSON.parse(text) as unknown };
  };
  const xCache = (path: string) => xCacheOf(demo, path);
  const hit = async (path: string) => (await fetch(`${demo.url}${path}`)).arrayBuffer();

  beforeEach(async () => {
    demo = await startDemo(adapter, { CACHE_ADMIN_TOKEN: TOKEN });
  });
  afterEach(async () => {
    await demo.close();
  });

  // Every row has three values: with fewer, Jest would pass its done callback as the body.
  const routes: [string, string, unknown][] = [
    ['GET', '/admin/cache/stats', undefined],
    ['GET', '/admin/cache/health', undefined],
    ['GET', '/admin/cache/keys', undefined],
    ['DELETE', `/admin/cache/keys/${encodeURIComponent('GET x/y')}`, undefined],
    ['POST', '/admin/cache/invalidate', { tags: ['users'] }],
    ['POST', '/admin/cache/clear', { confirm: true }],
    ['POST', '/admin/cache/warm', { paths: ['/api/version'] }],
    ['PUT', '/admin/demo/db', { latencyMs: 0 }],
  ];

  it.each(routes)('%s %s: 401 without the token or with a wrong one, and nothing is touched', async (method, path, body) => {
    await hit(`/api/users`);
    expect((await admin(method, path, body, null)).status).toBe(401);
    expect((await admin(method, path, body, 'wrong-token')).status).toBe(401);
    expect(await xCache('/api/users')).toBe('HIT');
    expect((await admin(method, path, body)).status).toBeLessThan(300);
  });

  it('stats: totals, hit ratio, top keys, per-route figures and the store', async () => {
    await hit(`/api/users`);
    await hit(`/api/users`);
    await hit(`/api/users`);
    await hit(`/api/users?nocache=true`);
    const stats = (await (await admin('GET', '/admin/cache/stats')).json()) as Record<string, unknown>;
    expect(stats).toMatchObject({ hits: 2, misses: 1, hitRatio: 0.6667, bypasses: 1, errors: 0, store: { type: 'memory', healthy: true } });
    expect(stats.entries).toBeGreaterThanOrEqual(1);
    expect(stats.sizeBytes).toBeGreaterThan(0);
    expect(stats.topKeys).toEqual([{ key: expect.stringContaining('/api/users'), hits: 2 }]);
    expect(stats.routes).toEqual([{ route: '/api/users', hits: 2, misses: 1 }]);
  });

  it('keys: by glob, paged by cursor, validated', async () => {
    for (const id of [1, 2, 3]) await hit(`/api/users/${id}`);
    await hit(`/api/posts/1`);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await admin(
        'GET',
        `/admin/cache/keys?pattern=${encodeURIComponent('*/api/users/*')}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      const page = (await res.json()) as { keys: string[]; cursor?: string };
      seen.push(...page.keys);
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined && pages < 10);
    expect(seen.sort()).toHaveLength(3);
    expect(seen.every((k) => k.includes('/api/users/'))).toBe(true);
    expect((await admin('GET', '/admin/cache/keys?limit=0')).status).toBe(400);
    expect((await admin('GET', '/admin/cache/keys?cursor=abc')).status).toBe(400);
    expect((await admin('GET', '/admin/cache/keys?pattern=%01')).status).toBe(400);
  });

  it('delete one key, invalidate by tags, keys and pattern, and clear with confirmation', async () => {
    await hit(`/api/users/1`);
    const [key] = (
      (await (await admin('GET', `/admin/cache/keys?pattern=${encodeURIComponent('*users/1|h:*')}`)).json()) as { keys: string[] }
    ).keys;
    expect(await (await admin('DELETE', `/admin/cache/keys/${encodeURIComponent(key)}`)).json()).toEqual({ deleted: true });
    expect(await xCache('/api/users/1')).toBe('MISS');

    await hit(`/api/posts/1`);
    await hit(`/api/users/2`);
    const invalidated = await (await admin('POST', '/admin/cache/invalidate', { tags: ['posts'], pattern: '*users/2|*' })).json();
    expect(invalidated).toEqual({ tags: 1, keys: 0, pattern: 1 });
    expect(await xCache('/api/posts/1')).toBe('MISS');
    expect(await xCache('/api/users/2')).toBe('MISS');
    expect((await admin('POST', '/admin/cache/invalidate', {})).status).toBe(400);
    expect((await admin('POST', '/admin/cache/invalidate', { tags: 'posts' })).status).toBe(400);

    await hit(`/api/version`);
    expect((await admin('POST', '/admin/cache/clear', {})).status).toBe(400);
    expect((await admin('POST', '/admin/cache/clear', { confirm: 'yes' })).status).toBe(400);
    expect(await xCache('/api/version')).toBe('HIT');
    expect((await admin('POST', '/admin/cache/clear', { confirm: true })).status).toBe(200);
    expect(await xCache('/api/version')).toBe('MISS');
  });

  // The demo's control of its data layer (moved from freshness.e2e-spec.ts, which now boots the fixture app).
  it('PUT /admin/demo/db needs the admin token and validates its body', async () => {
    expect((await admin('PUT', '/admin/demo/db', { latencyMs: 1 }, null)).status).toBe(401);
    expect((await admin('PUT', '/admin/demo/db', {}, 'nope')).status).toBe(401);
    expect((await admin('PUT', '/admin/demo/db', { failureRate: 2 })).status).toBe(400);
    expect((await admin('PUT', '/admin/demo/db', { latencyMs: 5 })).json()).toEqual({ latencyMs: 5, failureRate: 0 });
  });

  it('health: the store answers', async () => {
    expect(await (await admin('GET', '/admin/cache/health')).json()).toMatchObject({ store: 'memory', healthy: true });
  });
});

describe('admin API without CACHE_ADMIN_TOKEN', () => {
  it('answers 401 to everything', async () => {
    const demo = await startDemo('fastify');
    try {
      for (const token of [undefined, '', 'anything']) {
        const res = await fetch(`${demo.url}/admin/cache/stats`, {
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        });
        await res.arrayBuffer();
        expect(res.status).toBe(401);
      }
    } finally {
      await demo.close();
    }
  });
});
