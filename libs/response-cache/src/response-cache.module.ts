import {
  ConfigurableModuleAsyncOptions,
  DynamicModule,
  Inject,
  Module,
  NestModule,
  OnApplicationBootstrap,
  OnModuleDestroy,
  OnModuleInit,
  Provider,
} from '@nestjs/common';
import { ApplicationConfig, DiscoveryModule, DiscoveryService, HttpAdapterHost } from '@nestjs/core';
import { AdminTokenGuard } from './admin/admin-token.guard';
import { CacheWarmer } from './engine/cache-warmer.service';
import { CacheEngine } from './engine/cache-engine';
import { ResponseCacheService } from './engine/response-cache.service';
import { CacheHits } from './hit/cache-hits';
import { CacheInterceptor } from './interceptor/cache.interceptor';
import { ResponseCacheInterceptor } from './interceptor/response-cache.interceptor';
import { FastLane } from './lane/fast-lane';
import { appFacts } from './plan/app-facts';
import { LearnedTargets } from './plan/learned-targets';
import { catalogRoutes } from './plan/route-catalog';
import { RoutePlans } from './plan/route-plan';
import { CacheEvents } from './observability/cache-events';
import { CacheStats } from './observability/cache-stats';
import { CacheTelemetry } from './observability/cache-telemetry';
import { OperationLogger } from './observability/operation-logger';
import { RESPONSE_CACHE_OPTIONS } from './response-cache.constants';
import { ConfigurableModuleClass, RESPONSE_CACHE_MODULE_OPTIONS } from './response-cache.module-definition';
import { resolveOptions } from './options/resolve-options';
import type { ResponseCacheModuleExtras, ResponseCacheModuleOptions } from './response-cache.options';
import type { ResolvedCacheOptions } from './options/resolve-options';
import { CacheStore } from './store/cache-store';
import { EdgePurger } from './edge/edge-purger';

/** The longest a remote store's first connection may hold the app's startup, in ms. */
const STARTUP_WAIT_MS = 2000;

/** The module's services, provided and exported alike. */
const services = [
  CacheEvents,
  CacheStats,
  CacheTelemetry,
  CacheEngine,
  ResponseCacheService,
  ResponseCacheInterceptor,
  CacheWarmer,
  AdminTokenGuard,
  FastLane,
];

const providers: Provider[] = [
  {
    provide: RESPONSE_CACHE_OPTIONS,
    useFactory: (options: ResponseCacheModuleOptions) => resolveOptions(options),
    inject: [RESPONSE_CACHE_MODULE_OPTIONS],
  },
  {
    provide: CacheStore,
    useFactory: (options: ResolvedCacheOptions) => options.store,
    inject: [RESPONSE_CACHE_OPTIONS],
  },
  ...services,
  {
    provide: EdgePurger,
    useFactory: (options: ResolvedCacheOptions, telemetry: CacheTelemetry) =>
      new EdgePurger(options.edge, (edge, result) => telemetry.edgePurge(edge, result)),
    inject: [RESPONSE_CACHE_OPTIONS, CacheTelemetry],
  },
  CacheHits,
  CacheInterceptor,
  LearnedTargets,
  {
    provide: RoutePlans,
    useFactory: (options: ResolvedCacheOptions, config: ApplicationConfig, discovery: DiscoveryService, host: HttpAdapterHost) =>
      new RoutePlans(options, appFacts(config, discovery, host)),
    inject: [RESPONSE_CACHE_OPTIONS, ApplicationConfig, DiscoveryService, HttpAdapterHost],
  },
];

/**
 * The response cache. `forRoot(options)` or `forRootAsync({ imports, inject, useFactory })`,
 * once, in the root module. Extras: `isGlobal` (inject `ResponseCacheService` and the store
 * anywhere without importing the module), `adminRoutes` (mount the admin API) and `metrics`
 * (register the Prometheus metrics with `@willsoto/nestjs-prometheus`).
 *
 * The cache runs as the app's first global interceptor: around every other interceptor, after
 * middleware and guards (see {@link CacheInterceptor}).
 */
@Module({
  imports: [DiscoveryModule],
  providers,
  exports: [RESPONSE_CACHE_OPTIONS, CacheStore, EdgePurger, ...services],
})
export class ResponseCacheModule
  extends ConfigurableModuleClass
  implements NestModule, OnModuleInit, OnApplicationBootstrap, OnModuleDestroy
{
  private unsubscribe?: () => void;

  /** @internal */
  constructor(
    @Inject(RESPONSE_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly events: CacheEvents,
    private readonly config: ApplicationConfig,
    private readonly interceptor: CacheInterceptor,
    private readonly discovery: DiscoveryService,
    private readonly plans: RoutePlans,
  ) {
    super();
  }

  /**
   * Runs while the app initializes, before Nest builds its routes: every route's plan is built
   * (a plan's error stops the startup), and the cache becomes the first global interceptor, so
   * that it wraps those of `main.ts`, `APP_INTERCEPTOR`, controllers and methods alike.
   */
  configure(): void {
    catalogRoutes(this.discovery, this.plans, this.options.fastLane);
    const interceptors = this.config.getGlobalInterceptors();
    for (let i = interceptors.length - 1; i >= 0; i--) {
      if (interceptors[i] instanceof CacheInterceptor || interceptors[i] instanceof ResponseCacheInterceptor) interceptors.splice(i, 1);
    }
    interceptors.unshift(this.interceptor);
  }

  static forRoot(options: ResponseCacheModuleOptions & ResponseCacheModuleExtras = {}): DynamicModule {
    return super.forRoot(options);
  }

  static forRootAsync(options: ConfigurableModuleAsyncOptions<ResponseCacheModuleOptions> & ResponseCacheModuleExtras): DynamicModule {
    return super.forRootAsync(options);
  }

  onModuleInit(): void {
    if (this.options.logOperations) {
      const logger = new OperationLogger(this.options.clock);
      this.unsubscribe = this.events.subscribe((event) => logger.log(event));
    }
  }

  /**
   * Before the app takes requests: waits (at most {@link STARTUP_WAIT_MS}) for a remote store's
   * first connection, so that the first requests are not answered without the cache. A store
   * that is down does not hold the app up longer: it starts, and serves from its handlers.
   */
  async onApplicationBootstrap(): Promise<void> {
    const ready = this.options.store.ready?.();
    if (ready === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ready.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, STARTUP_WAIT_MS)))]);
    clearTimeout(timer);
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}
