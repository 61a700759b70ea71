export { ResponseCacheModule } from './response-cache.module';
export { ResponseCacheService, STORE_FAILED } from './engine/response-cache.service';
export type { CacheSetOptions, DraftEntry, FillResult, Produced } from './engine/response-cache.service';
export { ResponseCacheInterceptor } from './interceptor/response-cache.interceptor';
export { AdminTokenGuard } from './admin/admin-token.guard';
export { ResponseCacheAdminController } from './admin/response-cache-admin.controller';
export { CacheWarmer, REFRESH_HEADER } from './engine/cache-warmer.service';
export type { WarmResult } from './engine/cache-warmer.service';
export { Cacheable } from './decorators/cacheable.decorator';
export { InvalidateTags } from './decorators/invalidate-tags.decorator';
export { NoCache } from './decorators/no-cache.decorator';
export { CacheStore, InjectCacheStore, keyFenceTag } from './store/cache-store';
export type { CacheEntry, KeyPage, StoreStats, TagSnapshot } from './store/cache-store';
export { MemoryCacheStore } from './store/memory.store';
export { RedisCacheStore } from './store/redis.store';
export { TieredCacheStore } from './store/tiered.store';
export { RedisStampedeLock } from './store/stampede-lock';
export type { RedisStampedeLockOptions, StampedeLock } from './store/stampede-lock';
export type { TieredCacheStoreOptions } from './store/tiered.store';
export type { RedisCacheStoreOptions, RedisClient } from './store/redis.store';
export { SAFE_REDIS_OPTIONS, createRedisClient, duplicateClient } from './store/redis-client';
export type { RedisConnectionOptions } from './store/redis-client';
export { CircuitOpenError, ResilientCacheStore, StoreTimeoutError } from './store/resilient.store';
export type { CircuitState, ResilienceOptions } from './store/resilient.store';
export type { MemoryCacheStoreOptions } from './store/memory.store';
export { ResponseCacheLiveController } from './admin/response-cache-live.controller';
export type { EventStreamState } from './admin/event-stream';
export { CacheEvents } from './observability/cache-events';
export { CacheStats } from './observability/cache-stats';
export { CacheTelemetry } from './observability/cache-telemetry';
export type { CacheFigures, InvalidationRecord, RouteStats } from './observability/cache-stats';
export { DEFAULT_DURATION_BUCKETS, ResponseCacheMetrics, responseCacheMetricProviders } from './observability/response-cache-metrics';
export type { RequestResult, ResponseCacheMetricsOptions } from './observability/response-cache-metrics';
export { ResponseCacheHealthIndicator } from './observability/cache-health.indicator';
export type { CacheEvent, CacheEventType, CacheListener } from './observability/cache-events';
export { buildCacheKey } from './key/cache-key';
export type { CacheKeyParts } from './key/cache-key';
export { ManualClock, systemClock } from './clock';
export type { Clock } from './clock';
export { RESPONSE_CACHE_OPTIONS } from './response-cache.constants';
export { ResponseCacheConfigError, ResponseCacheError } from './response-cache.errors';
export type {
  CacheControlDirectives,
  CacheRequestContext,
  CacheScope,
  CacheableOptions,
  EventStreamOptions,
  IdentityResolver,
  InvalidationContext,
  ResolvedCacheOptions,
  ResponseCacheModuleExtras,
  ResponseCacheModuleOptions,
  TagSpec,
  WarmOptions,
  WarmPath,
} from './response-cache.options';
