/**
 * One benchmark server per process (so that the load generator never shares its event loop):
 * `node dist/bench/server.js <scenario> <express|fastify>`; prints `PORT <n>` when listening.
 */
import 'reflect-metadata';
import { CacheInterceptor, CacheModule } from '@nestjs/cache-manager';
import {
  CallHandler,
  Controller,
  ExecutionContext,
  Get,
  Injectable,
  Module,
  NestInterceptor,
  Query,
  Type,
  UseInterceptors,
} from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { Observable } from 'rxjs';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { prometheusMetrics } from 'nestjs-response-cache/prometheus';
import { createKeyv } from '@keyv/redis';
import { Cacheable, ResponseCacheInterceptor, ResponseCacheModule } from 'nestjs-response-cache';
import type { ResponseCacheModuleOptions } from 'nestjs-response-cache';
import { listenCeiling } from './ceiling';
import { listenLaneFloor } from './lane-floor';
import { PAYLOAD } from './payload';
import { RedisCacheStore, RedisStampedeLock, TieredCacheStore, createRedisClient, duplicateClient } from 'nestjs-response-cache/redis';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `bench-${process.pid}:`;

let slowRuns = 0;

@Controller()
class BareController {
  @Get('bare')
  bare() {
    return PAYLOAD;
  }
}

@Controller()
class OursController {
  @Get('cached')
  @Cacheable({ ttl: 3600 })
  cached() {
    return PAYLOAD;
  }

  @Get('undecorated')
  undecorated() {
    return PAYLOAD;
  }

  @Get('slow')
  @Cacheable({ ttl: 3600 })
  async slow(@Query('k') _k: string) {
    slowRuns++;
    await new Promise((resolve) => setTimeout(resolve, 200));
    return PAYLOAD;
  }

  @Get('slow-runs')
  runs() {
    return { runs: slowRuns };
  }

  /** 200 ms handlers whose 0.2 s TTL keeps expiring during a run: with stale-while-revalidate, and without. */
  @Get('expiring-swr')
  @Cacheable({ ttl: 0.2, staleWhileRevalidate: 3600 })
  async expiringSwr() {
    await new Promise((resolve) => setTimeout(resolve, 200));
    return PAYLOAD;
  }

  @Get('expiring')
  @Cacheable({ ttl: 0.2 })
  async expiring() {
    await new Promise((resolve) => setTimeout(resolve, 200));
    return PAYLOAD;
  }

  /** A handler that takes 20 ms, for latency while the store hangs. */
  @Get('work')
  @Cacheable({ ttl: 3600 })
  async work() {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return PAYLOAD;
  }
}

function redisStore(): RedisCacheStore {
  return new RedisCacheStore({ client: createRedisClient({ url: REDIS_URL }), prefix: PREFIX, ownsClient: true });
}

function tieredStore(): TieredCacheStore {
  const l2 = redisStore();
  return new TieredCacheStore({ l2, subscriber: duplicateClient(l2.client), channel: `${PREFIX}bus` });
}

/** The cache module over OursController, with these options. */
function oursWith(options: () => ResponseCacheModuleOptions): Type {
  @Module({ imports: [ResponseCacheModule.forRootAsync({ useFactory: options })], controllers: [OursController] })
  class OursWithModule {}
  return OursWithModule;
}

const OursRedisModule = oursWith(() => ({ store: redisStore() }));

/** Like ours-redis, with the cross-instance stampede lease (same prefix for every process). */
@Module({
  imports: [
    ResponseCacheModule.forRootAsync({
      useFactory: () => {
        const client = createRedisClient({ url: REDIS_URL });
        const prefix = process.env.BENCH_SHARED_PREFIX ?? PREFIX;
        return {
          store: new RedisCacheStore({ client, prefix, ownsClient: true }),
          stampede: { lock: new RedisStampedeLock({ client, subscriber: duplicateClient(client), prefix }) },
        };
      },
    }),
  ],
  controllers: [OursController],
})
class OursRedisLockModule {}

/** ours-redis on a shared prefix, without the lease. */
@Module({
  imports: [
    ResponseCacheModule.forRootAsync({
      useFactory: () => ({
        store: new RedisCacheStore({
          client: createRedisClient({ url: REDIS_URL }),
          prefix: process.env.BENCH_SHARED_PREFIX ?? PREFIX,
          ownsClient: true,
        }),
      }),
    }),
  ],
  controllers: [OursController],
})
class OursRedisSharedModule {}

const OursTieredModule = oursWith(() => ({ store: tieredStore() }));

@Controller()
class CacheManagerController {
  @Get('cache-manager')
  @UseInterceptors(CacheInterceptor)
  cached() {
    return PAYLOAD;
  }
}

/** The floor: what any global interceptor costs in Nest, doing nothing at all. */
@Injectable()
class NoopInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

@Module({ controllers: [BareController], providers: [{ provide: APP_INTERCEPTOR, useClass: NoopInterceptor }] })
class NoopModule {}

/** The default: the decorators bind the interceptor to the routes they mark. */
@Module({ imports: [ResponseCacheModule.forRoot()], controllers: [OursController] })
class OursModule {}

/** The default binding with the Prometheus metrics on (prom-client's global registry). */
@Module({ imports: [ResponseCacheModule.forRoot({ metrics: prometheusMetrics() })], controllers: [OursController] })
class OursMetricsModule {}

/** The interceptor also bound globally, so that every route goes through it. */
@Module({
  imports: [ResponseCacheModule.forRoot()],
  controllers: [OursController],
  providers: [{ provide: APP_INTERCEPTOR, useExisting: ResponseCacheInterceptor }],
})
class OursGlobalModule {}

@Module({ imports: [CacheModule.register({ ttl: 3_600_000 })], controllers: [CacheManagerController] })
class CacheManagerModule {}

/** @nestjs/cache-manager with its Redis store (Keyv) on the same Redis. */
@Module({
  imports: [
    CacheModule.registerAsync({ useFactory: () => ({ ttl: 3_600_000, stores: [createKeyv(REDIS_URL, { namespace: PREFIX }) as never] }) }),
  ],
  controllers: [CacheManagerController],
})
class CacheManagerRedisModule {}

const modules = {
  bare: BareModule,
  noop: NoopModule,
  ours: OursModule,
  'ours-metrics': OursMetricsModule,
  'ours-global': OursGlobalModule,
  'ours-redis': OursRedisModule,
  'ours-redis-lock': OursRedisLockModule,
  'ours-redis-shared': OursRedisSharedModule,
  'ours-tiered': OursTieredModule,
  'ours-lane': oursWith(() => ({ fastLane: true })),
  'ours-redis-lane': oursWith(() => ({ store: redisStore(), fastLane: true })),
  'ours-tiered-lane': oursWith(() => ({ store: tieredStore(), fastLane: true })),
  'cache-manager-redis': CacheManagerRedisModule,
  'cache-manager': CacheManagerModule,
} as const;

async function main(): Promise<void> {
  const [scenario, adapter] = process.argv.slice(2) as [
    keyof typeof modules | 'ceiling' | 'ceiling-redis' | 'ceiling-routed' | 'lane-floor',
    'express' | 'fastify',
  ];
  let close: () => Promise<unknown>;
  let port: number;
  if (scenario === 'ceiling' || scenario === 'ceiling-redis' || scenario === 'ceiling-routed') {
    ({ port, close } = await listenCeiling(adapter, scenario === 'ceiling-redis' ? REDIS_URL : undefined, scenario === 'ceiling-routed'));
  } else if (scenario === 'lane-floor') {
    ({ port, close } = await listenLaneFloor(adapter));
  } else {
    const app =
      adapter === 'fastify'
        ? await NestFactory.create(modules[scenario], new FastifyAdapter(), { logger: false })
        : await NestFactory.create(modules[scenario], { logger: false });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as { port: number }).port;
    close = () => app.close();
  }
  process.stdout.write(`PORT ${port}\n`);
  // The runner asks for CPU time over IPC, to report server CPU per request.
  process.on('message', (message) => {
    if (message === 'cpu') process.send?.(process.cpuUsage());
  });
  const shutdown = () => void close().then(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

void main();
