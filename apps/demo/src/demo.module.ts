import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { ResponseCacheModule } from 'nestjs-response-cache';
import type { Clock, ResponseCacheModuleOptions } from 'nestjs-response-cache';
import { prometheusMetrics } from 'nestjs-response-cache/prometheus';
import { ResponseCacheHealthIndicator } from 'nestjs-response-cache/terminus';
import { createDemoStore } from './demo-store';
import { createDemoEdge } from './demo-edge';
import { DB_OPTIONS, DbOptions, DemoDatabase, SQL_CLIENT } from './data/demo-database';
import { migrate } from './data/schema';
import { openSqlClient } from './data/sql-client';
import { FeedController } from './feed/feed.controller';
import { DemoConfig, loadDemoConfig } from './demo.config';
import { JobsController } from './jobs/jobs.controller';
import { PostsController } from './posts/posts.controller';
import { DemoMetricsModule } from './system/demo-metrics';
import { Registry } from 'prom-client';
import { SystemController } from './system/system.controller';
import { UsersController } from './users/users.controller';
import { DemoAdminController } from './system/demo-admin.controller';

export interface DemoModuleOptions {
  /** Environment to read (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Clock for the cache (tests inject a fake one). */
  clock?: Clock;
  /** Cache options laid over those from the environment (tests shorten the breaker's cool-down). */
  cacheOptions?: Partial<ResponseCacheModuleOptions>;
  /** Collect the Node process metrics too (default true; tests that boot many apps turn it off). */
  processMetrics?: boolean;
}

@Module({})
export class DemoModule {
  static forRoot(options: DemoModuleOptions = {}): DynamicModule {
    const env = options.env ?? process.env;
    const registry = new Registry();
    return {
      module: DemoModule,
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ demo: loadDemoConfig(env) })] }),
        TerminusModule,
        DemoMetricsModule.forRoot(registry, options.processMetrics ?? true),
        ResponseCacheModule.forRootAsync({
          adminRoutes: true,
          metrics: prometheusMetrics({ registry }),
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => {
            const demo = config.getOrThrow<DemoConfig>('demo');
            const { store, stampedeLock } = createDemoStore(demo, options.clock);
            return {
              enabled: demo.cacheEnabled,
              store,
              stampede: { lock: stampedeLock, waitMs: demo.stampedeWaitMs },
              ttl: demo.cacheTtlSeconds,
              staleWhileRevalidate: demo.staleWhileRevalidateSeconds,
              staleIfError: demo.staleIfErrorSeconds,
              resilience: { opTimeoutMs: demo.cacheOpTimeoutMs },
              maxMemoryBytes: Math.round(demo.cacheMaxMemoryMb * 1024 * 1024),
              logOperations: demo.cacheLogOperations,
              fastLane: demo.cacheFastLane,
              adminToken: demo.cacheAdminToken,
              compression: { enabled: demo.cacheEnableCompression, thresholdBytes: demo.cacheCompressionThresholdBytes },
              warm: { paths: demo.warmPaths, intervalSeconds: demo.warmIntervalSeconds, host: demo.warmHosts },
              identity: { secret: demo.identitySecret },
              edge: createDemoEdge(demo),
              clock: options.clock,
              ...options.cacheOptions,
            };
          },
        }),
      ],
      controllers: [UsersController, PostsController, FeedController, JobsController, SystemController, DemoAdminController],
      providers: [
        DemoDatabase,
        {
          provide: SQL_CLIENT,
          inject: [ConfigService],
          useFactory: async (config: ConfigService) => {
            const sql = await openSqlClient(config.getOrThrow<DemoConfig>('demo').databaseUrl);
            await migrate(sql);
            return sql;
          },
        },
        ResponseCacheHealthIndicator,
        {
          provide: DB_OPTIONS,
          inject: [ConfigService],
          useFactory: (config: ConfigService): DbOptions => ({
            latencyMs: config.getOrThrow<DemoConfig>('demo').dbLatencyMs,
            failureRate: 0,
          }),
        },
      ],
    };
  }
}
