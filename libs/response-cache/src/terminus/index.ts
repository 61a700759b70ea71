/**
 * `nestjs-response-cache/terminus`: a Terminus health indicator of the cache store
 * (`@nestjs/terminus` is an optional peer, installed by apps that use this).
 */
export { ResponseCacheHealthIndicator } from './cache-health.indicator';
export type { CacheHealthCheckOptions } from './cache-health.indicator';
