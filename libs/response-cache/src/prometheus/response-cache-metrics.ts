import { Inject, Injectable, Provider } from '@nestjs/common';
import { InjectMetric, makeCounterProvider, makeGaugeProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CacheMetricsIntegration, CacheMetricsSink, LANE_REASON, RequestResult } from '../observability/metrics-sink';
import { CacheStore } from '../store/cache-store';

/** Options of {@link prometheusMetrics}. */
export interface ResponseCacheMetricsOptions {
  /**
   * Registry the metrics are registered in. Default: prom-client's global registry, the one
   * `PrometheusModule.register()` serves at `/metrics`.
   */
  registry?: Registry;
  /** Buckets of `cache_request_duration_seconds`, in seconds. */
  buckets?: number[];
}

export const DEFAULT_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** How long one store size reading serves `cache_entries` and `cache_size_bytes` (a scrape reads both). */
const SIZE_READING_MS = 5_000;

/** The store's size, read once for both gauges of a scrape; a failed reading reports nothing. */
@Injectable()
export class StoreSizeReading {
  private reading?: { at: number; value: Promise<{ entries: number; sizeBytes: number } | undefined> };

  constructor(@Inject(CacheStore) readonly store: CacheStore) {}

  read(): Promise<{ entries: number; sizeBytes: number } | undefined> {
    const now = Date.now();
    if (this.reading === undefined || now - this.reading.at > SIZE_READING_MS) {
      this.reading = { at: now, value: this.store.stats().catch(() => undefined) };
    }
    return this.reading.value;
  }
}

/** The contract's counters. */
const COUNTERS: { name: string; help: string; labelNames: string[] }[] = [
  { name: 'cache_hits_total', help: 'Responses served from the cache', labelNames: ['route'] },
  {
    name: 'cache_fast_lane_hits_total',
    help: 'Hits answered by the fast lane, before routing (also in cache_hits_total)',
    labelNames: ['route'],
  },
  { name: 'cache_misses_total', help: 'Cacheable requests that ran the handler', labelNames: ['route'] },
  { name: 'cache_bypass_total', help: 'Cacheable requests that skipped the cache, by reason', labelNames: ['route', 'reason'] },
  { name: 'cache_stale_total', help: 'Stale entries served (stale-while-revalidate, stale-if-error)', labelNames: ['route', 'reason'] },
  { name: 'cache_coalesced_total', help: 'Requests answered by a concurrent fill of the same key', labelNames: ['route'] },
  { name: 'cache_invalidations_total', help: 'Invalidations: tags invalidated, keys deleted, clears', labelNames: ['type'] },
  { name: 'cache_store_errors_total', help: 'Store operations that failed or timed out', labelNames: ['store', 'operation'] },
  {
    name: 'cache_edge_purges_total',
    help: 'Purge requests sent to the edge (CDN, Varnish), by result: ok, error, timeout',
    labelNames: ['edge', 'result'],
  },
];

/**
 * The Prometheus metrics of the cache, for the module's `metrics` extra:
 * `ResponseCacheModule.forRoot({ metrics: prometheusMetrics({ registry }) })`. The contract's
 * metrics are made with `@willsoto/nestjs-prometheus` (so they can be injected with
 * `@InjectMetric(name)` anywhere) and registered in `options.registry` (default: prom-client's
 * global registry, the one `PrometheusModule.register()` serves).
 */
export function prometheusMetrics(options: ResponseCacheMetricsOptions = {}): CacheMetricsIntegration {
  return { providers: responseCacheMetricProviders(options) };
}

function responseCacheMetricProviders(options: ResponseCacheMetricsOptions): Provider[] {
  const registers = options.registry === undefined ? {} : { registers: [options.registry] };
  function sizeGauge(name: string, help: string, field: 'entries' | 'sizeBytes'): Provider {
    return makeGaugeProvider({
      name,
      help,
      labelNames: ['store'],
      ...registers,
      inject: [StoreSizeReading],
      async collect(this: Gauge<'store'>, reading: StoreSizeReading) {
        const size = await reading.read();
        this.reset();
        if (size !== undefined) this.set({ store: reading.store.name }, size[field]);
      },
    });
  }
  return [
    ...COUNTERS.map((counter) => makeCounterProvider({ ...counter, ...registers })),
    makeHistogramProvider({
      name: 'cache_request_duration_seconds',
      help: 'Time from the cache layer to the response body of cacheable requests, by result',
      labelNames: ['route', 'result'],
      buckets: options.buckets ?? DEFAULT_DURATION_BUCKETS,
      ...registers,
    }),
    sizeGauge('cache_entries', 'Entries in the cache store', 'entries'),
    sizeGauge('cache_size_bytes', 'Bytes held by the cache store (for Redis: the server used_memory)', 'sizeBytes'),
    StoreSizeReading,
    ResponseCacheMetrics,
    { provide: CacheMetricsSink, useExisting: ResponseCacheMetrics },
  ];
}

/** Count of one series: requests are counted here and handed to prom-client when it is scraped. */
interface Tally {
  labels: Record<string, string>;
  count: number;
  flushed: number;
}

/** The series of one route, made once so that counting a request is an integer increment. */
interface RouteSeries {
  hit: Tally;
  /** hits of the fast lane (counted in `hit` too) */
  lane: Tally;
  miss: Tally;
  coalesced: Tally;
  /** bypass and stale counts by reason */
  bypass: Map<string, Tally>;
  stale: Map<string, Tally>;
  durationLabels: Record<RequestResult, { route: string; result: RequestResult }>;
}

/** Most distinct routes labelled one by one; the rest share the route label `other` (bounded series). */
const MAX_ROUTES = 500;
/** Most distinct reasons per route (bypass and stale reasons are a fixed set in the library). */
const MAX_REASONS = 50;

const tally = (labels: Record<string, string>): Tally => ({ labels, count: 0, flushed: 0 });

/**
 * Writes the contract's Prometheus metrics. On the request path a counter is a plain integer
 * increment on a per-route record (handed to prom-client, as a delta, when the registry is
 * scraped, so `registry.resetMetrics()` still works), plus one histogram observation.
 */
@Injectable()
export class ResponseCacheMetrics extends CacheMetricsSink {
  private readonly routes = new Map<string, RouteSeries>();

  constructor(
    @InjectMetric('cache_hits_total') private readonly hits: Counter<'route'>,
    @InjectMetric('cache_fast_lane_hits_total') private readonly laneHits: Counter<'route'>,
    @InjectMetric('cache_misses_total') private readonly misses: Counter<'route'>,
    @InjectMetric('cache_bypass_total') private readonly bypasses: Counter<'route' | 'reason'>,
    @InjectMetric('cache_stale_total') private readonly stale: Counter<'route' | 'reason'>,
    @InjectMetric('cache_coalesced_total') private readonly coalesced: Counter<'route'>,
    @InjectMetric('cache_invalidations_total') private readonly invalidations: Counter<'type'>,
    @InjectMetric('cache_store_errors_total') private readonly storeErrors: Counter<'store' | 'operation'>,
    @InjectMetric('cache_request_duration_seconds') private readonly duration: Histogram<'route' | 'result'>,
    @InjectMetric('cache_edge_purges_total') private readonly edgePurges: Counter<'edge' | 'result'>,
  ) {
    super();
    // prom-client calls `collect` before it reads a metric: the tallies are handed over then.
    const flush = () => this.flush();
    for (const counter of [hits, laneHits, misses, bypasses, stale, coalesced])
      (counter as unknown as { collect: () => void }).collect = flush;
  }

  request(result: RequestResult, route: string, seconds: number, reason?: string): void {
    const series = this.seriesOf(route);
    if (result === 'bypass' || result === 'stale') this.reasonTally(series[result], route, reason ?? result).count++;
    else series[result].count++;
    if (reason === LANE_REASON) series.lane.count++;
    this.duration.observe(series.durationLabels[result], seconds);
  }

  invalidation(type: 'tag' | 'key' | 'clear', count = 1): void {
    this.invalidations.inc({ type }, count);
  }

  storeError(store: string, operation: string): void {
    this.storeErrors.inc({ store, operation });
  }

  override edgePurge(edge: string, result: 'ok' | 'error' | 'timeout'): void {
    this.edgePurges.inc({ edge, result });
  }

  /** Hands the counts gathered since the last scrape to prom-client. */
  flush(): void {
    const give = (counter: Counter<string>, t: Tally) => {
      if (t.count === t.flushed) return;
      counter.inc(t.labels, t.count - t.flushed);
      t.flushed = t.count;
    };
    for (const series of this.routes.values()) {
      give(this.hits, series.hit);
      give(this.laneHits, series.lane);
      give(this.misses, series.miss);
      give(this.coalesced, series.coalesced);
      for (const t of series.bypass.values()) give(this.bypasses, t);
      for (const t of series.stale.values()) give(this.stale, t);
    }
  }

  private seriesOf(route: string): RouteSeries {
    let series = this.routes.get(route);
    if (series === undefined) {
      if (this.routes.size >= MAX_ROUTES && route !== 'other') return this.seriesOf('other');
      const durationLabels = {} as RouteSeries['durationLabels'];
      for (const result of ['hit', 'miss', 'bypass', 'stale', 'coalesced'] as const) durationLabels[result] = { route, result };
      series = {
        hit: tally({ route }),
        lane: tally({ route }),
        miss: tally({ route }),
        coalesced: tally({ route }),
        bypass: new Map(),
        stale: new Map(),
        durationLabels,
      };
      this.routes.set(route, series);
    }
    return series;
  }

  private reasonTally(byReason: Map<string, Tally>, route: string, reason: string): Tally {
    let t = byReason.get(reason);
    if (t === undefined) {
      if (byReason.size >= MAX_REASONS && reason !== 'other') return this.reasonTally(byReason, route, 'other');
      byReason.set(reason, (t = tally({ route, reason })));
    }
    return t;
  }
}
