import { Counter, Histogram, Registry } from 'prom-client';
import { DEFAULT_DURATION_BUCKETS, ResponseCacheMetrics } from './response-cache-metrics';

function metrics() {
  const registry = new Registry();
  const counter = (name: string, labelNames: string[]) => new Counter({ name, help: name, labelNames, registers: [registry] });
  const m = new ResponseCacheMetrics(
    counter('cache_hits_total', ['route']),
    counter('cache_fast_lane_hits_total', ['route']),
    counter('cache_misses_total', ['route']),
    counter('cache_bypass_total', ['route', 'reason']),
    counter('cache_stale_total', ['route', 'reason']),
    counter('cache_coalesced_total', ['route']),
    counter('cache_invalidations_total', ['type']),
    counter('cache_store_errors_total', ['store', 'operation']),
    new Histogram({
      name: 'cache_request_duration_seconds',
      help: 'd',
      labelNames: ['route', 'result'],
      buckets: DEFAULT_DURATION_BUCKETS,
      registers: [registry],
    }),
    counter('cache_edge_purges_total', ['edge', 'result']),
  );
  const value = async (name: string, labels: Record<string, string>) => {
    const metric = await registry.getSingleMetric(name)?.get();
    return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))?.value;
  };
  return { m, registry, value };
}

describe('ResponseCacheMetrics', () => {
  it('counts requests in tallies that reach prom-client when it is read, as deltas (a reset registry starts from zero)', async () => {
    const { m, registry, value } = metrics();
    m.request('hit', '/a', 0.001);
    m.request('hit', '/a', 0.001);
    m.request('bypass', '/a', 0.001, 'nocache-param');
    expect(await value('cache_hits_total', { route: '/a' })).toBe(2);
    expect(await value('cache_hits_total', { route: '/a' })).toBe(2); // a second read adds nothing
    expect(await value('cache_bypass_total', { route: '/a', reason: 'nocache-param' })).toBe(1);
    registry.resetMetrics();
    m.request('hit', '/a', 0.001);
    expect(await value('cache_hits_total', { route: '/a' })).toBe(1);
    expect(await value('cache_request_duration_seconds', { route: '/a', result: 'hit', le: '+Inf' })).toBe(1);
  });

  it('bounds the series: routes beyond 500 and reasons beyond 50 per route share the label "other"', async () => {
    const { m, value } = metrics();
    for (let i = 0; i < 600; i++) m.request('miss', `/r${i}`, 0.001);
    for (let i = 0; i < 60; i++) m.request('bypass', '/r0', 0.001, `reason-${i}`);
    expect(await value('cache_misses_total', { route: 'other' })).toBe(100);
    expect(await value('cache_bypass_total', { route: '/r0', reason: 'other' })).toBe(10);
  });
});
