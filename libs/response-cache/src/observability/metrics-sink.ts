import type { Provider } from '@nestjs/common';

/** What became of a cacheable request, the `result` label of `cache_request_duration_seconds`. */
export type RequestResult = 'hit' | 'miss' | 'bypass' | 'stale' | 'coalesced';

/** The `reason` of a hit that the fast lane answered, before routing. */
export const LANE_REASON = 'fast-lane';

/**
 * Where the cache hands its counts for a metrics system. The core never loads one: the
 * Prometheus integration (`prometheusMetrics()` from `nestjs-response-cache/prometheus`) provides
 * this token, and the module's `metrics` extra registers it.
 */
export abstract class CacheMetricsSink {
  abstract request(result: RequestResult, route: string, seconds: number, reason?: string): void;
  abstract invalidation(type: 'tag' | 'key' | 'clear', count?: number): void;
  abstract storeError(store: string, operation: string): void;
  /** A purge request to the edge (`cache_edge_purges_total{edge,result}`); sinks written before the edge may leave it out. */
  edgePurge?(edge: string, result: 'ok' | 'error' | 'timeout'): void;
}

/** What the module's `metrics` extra takes: the providers of a {@link CacheMetricsSink}. */
export interface CacheMetricsIntegration {
  readonly providers: Provider[];
}
