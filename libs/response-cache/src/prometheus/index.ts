/**
 * `nestjs-response-cache/prometheus`: the cache's Prometheus metrics, through
 * `@willsoto/nestjs-prometheus` and `prom-client` (optional peers, installed by apps that use this).
 */
import './peer-check'; // first: names a missing optional peer before anything needs it
export { prometheusMetrics } from './response-cache-metrics';
