import { RunningDemo, dbQueries, rawRequest, startDemo } from './support/demo-app';
import { eventually } from './support/redis-stores';

const TOKEN = 'warm-admin-token';

describe('cache warming', () => {
  let demo: RunningDemo;
  afterEach(async () => {
    await demo.close();
  });

  /** A client request as the warmer keys it: Host localhost:<port>. */
  const asClient = (path: string) => rawRequest(demo.url, { path, headers: { host: `localhost:${new URL(demo.url).port}` } });

  it('warms the configured paths once the server listens, through the app pipeline', async () => {
    demo = await startDemo('fastify', { CACHE_WARM_PATHS: '/api/users,/api/posts?page=1' });
    await eventually(async () => (await dbQueries(demo)) === 2, 'the two warming requests');
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
    expect((await asClient('/api/users/2')).headers['x-cache']).toBe('HIT');
  });

  it('a failing path is logged and counted, never fatal', async () => {
    demo = await startDemo('express', { CACHE_WARM_PATHS: '/api/users/999,/api/users' });
    await eventually(async () => (await dbQueries(demo)) === 2, 'both warming requests');
    expect((await asClient('/api/users')).headers['x-cache']).toBe('HIT');
    const health = await fetch(`${demo.url}/health`);
    expect(health.status).toBe(200);
  });
});
