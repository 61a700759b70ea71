/**
 * `nestjs-response-cache`: the module, its decorators, the engine and the in-process store. The
 * optional integrations live behind subpaths, so an app loads only what it uses:
 * `nestjs-response-cache/redis` (ioredis), `/terminus` (@nestjs/terminus), `/prometheus`
 * (@willsoto/nestjs-prometheus, prom-client) and `/testing` (the store contract suite, a clock).
 *
 * Only what users write or read is exported: the types of option fields, events and stats are
 * reachable through the names below (`CacheableOptions['scope']`, `Parameters<…>`).
 */
export { ResponseCacheModule } from './response-cache.module';
export type { ResponseCacheModuleOptions, CacheableOptions, CacheRequestContext } from './response-cache.options';
export { Cacheable } from './decorators/cacheable.decorator';
export { InvalidateTags } from './decorators/invalidate-tags.decorator';
export { NoCache } from './decorators/no-cache.decorator';
export { ResponseCacheService } from './engine/response-cache.service';
export { ResponseCacheInterceptor } from './interceptor/response-cache.interceptor';
export { CacheWarmer } from './engine/cache-warmer.service';
export { AdminTokenGuard } from './admin/admin-token.guard';
export { CacheStore, InjectCacheStore } from './store/cache-store';
export type { CacheEntry, KeyPage, StoreStats, TagSnapshot } from './store/cache-store';
export { MemoryCacheStore } from './store/memory.store';
export type { StampedeLock } from './store/stampede-lock';
export { CacheEvents } from './observability/cache-events';
export type { CacheEvent } from './observability/cache-events';
export { varnishEdge, fastlyEdge, cloudflareEdge, EdgePurgeError } from './edge';
export type { EdgeAdapter } from './edge';
export type { Clock } from './clock';
export { ResponseCacheConfigError, ResponseCacheError } from './response-cache.errors';
