/**
 * `nestjs-response-cache/prometheus`: the cache's Prometheus metrics, through
 * `@willsoto/nestjs-prometheus` and `prom-client` (optional peers, installed by apps that use this).
 */
import './peer-check'; // first: names a missing optional peer before anything needs it
export { DEFAULT_DURATION_BUCKETS, prometheusMetrics } from './response-cache-metrics';
export type { ResponseCacheMetricsOptions } from './response-cache-metrics';
