/**
 * `nestjs-response-cache`: the module, its decorators, the engine and the in-process store. The
 * optional integrations live behind subpaths, so an app loads only what it uses:
 * `nestjs-response-cache/redis` (ioredis), `/terminus` (@nestjs/terminus) and `/prometheus`
 * (@willsoto/nestjs-prometheus, prom-client).
 */
export { ResponseCacheModule } from './response-cache.module';
export { Cacheable } from './decorators/cacheable.decorator';
export { InvalidateTags } from './decorators/invalidate-tags.decorator';
export { NoCache } from './decorators/no-cache.decorator';
export { ResponseCacheService } from './engine/response-cache.service';
export type { CacheSetOptions } from './engine/engine-entries';
export { ResponseCacheInterceptor } from './interceptor/response-cache.interceptor';
export { CacheWarmer } from './engine/cache-warmer.service';
export type { WarmResult } from './engine/cache-warmer.service';
export { AdminTokenGuard } from './admin/admin-token.guard';
export { CacheStore, InjectCacheStore } from './store/cache-store';
export type { CacheEntry, KeyPage, StoreStats, TagSnapshot } from './store/cache-store';
export { MemoryCacheStore } from './store/memory.store';
export type { MemoryCacheStoreOptions } from './store/memory.store';
export type { StampedeLock } from './store/stampede-lock';
export type { CircuitState } from './store/resilient.store';
export { CacheEvents } from './observability/cache-events';
export type { CacheEvent, CacheEventType, CacheListener } from './observability/cache-events';
export { CacheStats } from './observability/cache-stats';
export type { CacheFigures, InvalidationRecord, RouteStats } from './observability/cache-stats';
export { CacheMetricsSink } from './observability/metrics-sink';
export type { CacheMetricsIntegration, RequestResult } from './observability/metrics-sink';
export { ManualClock, systemClock } from './clock';
export type { Clock } from './clock';
export { ResponseCacheConfigError, ResponseCacheError } from './response-cache.errors';
export type {
  AnonymousPolicy,
  CacheControlDirectives,
  CacheRequestContext,
  CacheScope,
  CacheableOptions,
  EventStreamOptions,
  FreshnessMode,
  IdentityResolver,
  InvalidationContext,
  ResponseCacheModuleExtras,
  ResponseCacheModuleOptions,
  ResultTags,
  TagSpec,
  WarmOptions,
  WarmPath,
} from './response-cache.options';
