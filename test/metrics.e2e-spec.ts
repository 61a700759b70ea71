import type { Registry } from 'prom-client';
import { DEMO_REGISTRY } from '../apps/demo/src/system/demo-metrics';
import { ADAPTERS, RunningDemo, startDemo } from './support/demo-app';
import { sample } from './support/prometheus-text';

const TOKEN = 'metrics-admin-token';

describe.each(ADAPTERS)('Prometheus metrics on %s', (adapter) => {
  let demo: RunningDemo;
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${demo.url}${path}`, init);
    await res.arrayBuffer();
    return res;
  };
  const admin = (path: string, body: unknown) =>
    call(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const metrics = async () => {
    const res = await fetch(`${demo.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    return res.text();
  };

  beforeEach(async () => {
    demo = await startDemo(adapter, { CACHE_ADMIN_TOKEN: TOKEN });
  });
  afterEach(async () => {
    await demo.close();
  });

  it('counts hits, misses and bypasses per route pattern, never per raw URL', async () => {
    await call('/api/users/1');
    await call('/api/users/1');
    await call('/api/users/1');
    await call('/api/users/2');
    await call('/api/users/2?nocache=true');
    await call('/api/users');
    const text = await metrics();
    expect(sample(text, 'cache_hits_total', { route: '/api/users/:id' })).toBe(2);
    expect(sample(text, 'cache_misses_total', { route: '/api/users/:id' })).toBe(2);
    expect(sample(text, 'cache_misses_total', { route: '/api/users' })).toBe(1);
    expect(sample(text, 'cache_bypass_total', { route: '/api/users/:id', reason: 'nocache-param' })).toBe(1);
    expect(sample(text, 'demo_db_queries_total', { operation: 'getUser' })).toBe(3);
    expect(text).not.toMatch(/route="\/api\/users\/\d/);
  });

  it('observes each request in cache_request_duration_seconds by result', async () => {
    await call('/api/posts/1');
    await call('/api/posts/1');
    await call('/api/posts/1');
    const text = await metrics();
    const count = (result: string) => sample(text, 'cache_request_duration_seconds_count', { route: '/api/posts/:id', result });
    expect([count('miss'), count('hit')]).toEqual([1, 2]);
    expect(sample(text, 'cache_request_duration_seconds_bucket', { route: '/api/posts/:id', result: 'hit', le: '+Inf' })).toBe(2);
    expect(sample(text, 'cache_request_duration_seconds_sum', { route: '/api/posts/:id', result: 'hit' })).toBeGreaterThan(0);
  });

  it('counts invalidations by type: each tag, each key, each clear', async () => {
    await call('/api/users/1');
    await call('/api/users/1', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Ann' }) });
    await admin('/admin/cache/invalidate', { tags: ['posts'] });
    await admin('/admin/cache/invalidate', { keys: ['GET 127.0.0.1/api/nothing'] });
    await admin('/admin/cache/clear', { confirm: true });
    const text = await metrics();
    expect(sample(text, 'cache_invalidations_total', { type: 'tag' })).toBe(3); // users, user:1, posts
    expect(sample(text, 'cache_invalidations_total', { type: 'key' })).toBe(1);
    expect(sample(text, 'cache_invalidations_total', { type: 'clear' })).toBe(1);
  });

  it('reports the entries and bytes of the store in gauges, as the admin stats do', async () => {
    await call('/api/users/1');
    await call('/api/posts/1');
    const text = await metrics();
    const res = await fetch(`${demo.url}/admin/cache/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const stats = (await res.json()) as { entries: number; sizeBytes: number };
    expect(sample(text, 'cache_entries', { store: 'memory' })).toBe(2);
    expect(stats.entries).toBe(2);
    expect(sample(text, 'cache_size_bytes', { store: 'memory' })).toBe(stats.sizeBytes);
    expect(stats.sizeBytes).toBeGreaterThan(0);
  });

  it('counts stale answers and coalesced requests', async () => {
    await demo.close();
    demo = await startDemo(adapter, { CACHE_ADMIN_TOKEN: TOKEN, CACHE_TTL_SECONDS: '10', CACHE_STALE_WHILE_REVALIDATE_SECONDS: '30' });
    await call('/api/users/1');
    demo.clock.advance(15_000);
    await call('/api/users/1');
    demo.db.settings.latencyMs = 30;
    await Promise.all([call('/api/posts?page=2'), call('/api/posts?page=2'), call('/api/posts?page=2')]);
    const text = await metrics();
    expect(sample(text, 'cache_stale_total', { route: '/api/users/:id', reason: 'stale-while-revalidate' })).toBe(1);
    expect(sample(text, 'cache_coalesced_total', { route: '/api/posts' })).toBe(2);
  });

  it('exposes the demo and cache counters at /metrics', async () => {
    await call('/api/users');
    await call('/api/users');
    const text = await metrics();
    expect(text).toMatch(/^cache_hits_total\{route="\/api\/users"\} 1$/m);
    expect(text).toMatch(/^cache_misses_total\{route="\/api\/users"\} 1$/m);
    expect(text).toMatch(/^demo_db_queries_total\{operation="listUsers"\} 1$/m);
  });

  it('lives in a registry that a test can reset', async () => {
    await call('/api/users/1');
    await call('/api/users/1');
    const registry = demo.app.get<Registry>(DEMO_REGISTRY as symbol, { strict: false });
    expect(sample(await registry.metrics(), 'cache_hits_total', { route: '/api/users/:id' })).toBe(1);
    registry.resetMetrics();
    expect(sample(await metrics(), 'cache_hits_total', { route: '/api/users/:id' })).toBeUndefined();
    await call('/api/users/1');
    expect(sample(await metrics(), 'cache_hits_total', { route: '/api/users/:id' })).toBe(1);
  });
});
