import { bootApp } from '../support/boot-app';
import { Controller, Get, Module } from '@nestjs/common';
import { INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { ResponseCacheModule } from 'nestjs-response-cache';
import { ResponseCacheHealthIndicator } from 'nestjs-response-cache/terminus';
import { RedisProcess } from '../support/redis-harness';
import { redisStore } from '../support/redis-stores';

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly cache: ResponseCacheHealthIndicator,
  ) {}

  /** The cache is an optimisation: a dead store degrades, the app stays ready. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.cache.check('cache')]);
  }

  /** For an app that cannot work without its cache. */
  @Get('strict')
  @HealthCheck()
  strict() {
    return this.health.check([() => this.cache.check('cache', { required: true, timeoutMs: 200 })]);
  }
}

interface HealthBody {
  status: string;
  info?: Record<string, Record<string, unknown>>;
  error?: Record<string, Record<string, unknown>>;
  details: { cache: Record<string, unknown> };
}

describe('cache health through Terminus: up, degraded, down (real Redis)', () => {
  let redis: RedisProcess;
  let app: INestApplication;
  let url: string;
  const check = async (path: string) => {
    const res = await fetch(`${url}/health/${path}`, { signal: AbortSignal.timeout(3000) });
    return { status: res.status, body: (await res.json()) as HealthBody };
  };

  beforeEach(async () => {
    redis = await RedisProcess.start();
    const { store } = await redisStore({ url: redis.url });
    @Module({
      imports: [TerminusModule, ResponseCacheModule.forRoot({ store, resilience: { opTimeoutMs: 100 } })],
      controllers: [HealthController],
      providers: [ResponseCacheHealthIndicator],
    })
    class AppModule {}
    ({ app, url } = await bootApp('express', AppModule));
  });
  afterEach(async () => {
    await app.close();
    await redis.stop();
  });

  it('is up, with the latency and the circuit state, while Redis answers', async () => {
    for (const path of ['ready', 'strict']) {
      const { status, body } = await check(path);
      expect(status).toBe(200);
      expect(body.status).toBe('ok');
      expect(body.details.cache).toMatchObject({
        status: 'up',
        store: 'redis',
        circuit: 'closed',
        latencyMs: expect.any(Number) as number,
      });
    }
  });

  it('is degraded (and the app ready) when Redis is dead, down where the cache is required', async () => {
    await redis.kill();
    const ready = await check('ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details.cache).toMatchObject({ status: 'degraded', store: 'redis' });
    const strict = await check('strict');
    expect(strict.status).toBe(503);
    expect(strict.body.status).toBe('error');
    expect(strict.body.details.cache).toMatchObject({ status: 'down', store: 'redis' });
  });

  it('is degraded when Redis hangs (SIGSTOP), answering within the timeout', async () => {
    redis.pause();
    try {
      const ready = await check('ready');
      expect(ready.status).toBe(200);
      expect(ready.body.details.cache).toMatchObject({ status: 'degraded', store: 'redis' });
      expect(String(ready.body.details.cache.message)).toMatch(/did not answer|circuit/i);
    } finally {
      redis.resume();
    }
  });
});
