import { CanActivate, Controller, Get, Header, INestApplication, Injectable, Module, Type, UseGuards } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { getToken } from '@willsoto/nestjs-prometheus';
import { CacheEvents, Cacheable, MemoryCacheStore, ResponseCacheModule } from 'nestjs-response-cache';
import { ManualClock } from 'nestjs-response-cache/testing';
import type { Counter } from 'prom-client';
import { RedisCacheStore, RedisStampedeLock, createRedisClient, duplicateClient } from 'nestjs-response-cache/redis';
import { ADAPTERS, bootApp } from './support/boot-app';
import { RunningFixture, startFixture } from './support/fixture-api';
import { RawResponse, rawRequest } from './support/http-client';
import { RedisProcess } from './support/redis-harness';
import { uniquePrefix } from './support/redis-stores';

/** Hits the fast lane answered so far (its own Prometheus counter, also counted in cache_hits_total). */
async function laneHits(fixture: RunningFixture): Promise<number> {
  const metric = await fixture.app.get<Counter>(getToken('cache_fast_lane_hits_total')).get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

/** Headers that differ between any two responses (the time, the connection). */
const PER_RESPONSE = new Set(['date', 'connection', 'keep-alive']);

function comparable(res: RawResponse): { status: number; headers: Record<string, unknown>; body: string } {
  const headers = Object.fromEntries(Object.entries(res.headers).filter(([name]) => !PER_RESPONSE.has(name)));
  return { status: res.status, headers, body: res.body };
}

/** Every cacheable public route of the demo (the fixture app has them, with the demo's decorators), with the request headers a client may send. */
const PATHS = ['/api/users', '/api/users/1', '/api/posts', '/api/posts?limit=100', '/api/posts?page=2&limit=5', '/api/posts/3'];

/** A guard that lets everything through and counts the requests it saw. */
@Injectable()
class CountingGuard implements CanActivate {
  static calls = 0;
  canActivate(): boolean {
    CountingGuard.calls++;
    return true;
  }
}

@Controller('m')
class MethodGuarded {
  @Get('free')
  @Cacheable()
  free() {
    return { route: 'free' };
  }

  @Get('guarded')
  @Cacheable()
  @UseGuards(CountingGuard)
  guarded() {
    return { route: 'method-guarded' };
  }
}

/** String bodies with content types `res.send` treats apart: with a UTF-8 charset, with another, with none. */
@Controller('texts')
class Texts {
  @Get('json')
  @Cacheable()
  json() {
    return { text: 'x'.repeat(1200) };
  }

  @Get('csv')
  @Cacheable()
  @Header('Content-Type', 'text/csv')
  csv() {
    return 'a,b\n'.repeat(400);
  }

  @Get('latin1')
  @Cacheable()
  @Header('Content-Type', 'text/plain; charset=iso-8859-1')
  latin1() {
    return 'short';
  }

  @Get('html')
  @Cacheable()
  html() {
    return '<p>hello</p>';
  }

  @Get('odd-type')
  @Cacheable()
  @Header('Content-Type', 'text/plain;charset=UTF-8')
  oddType() {
    return 'spelled its own way';
  }

  @Get('json-nocharset')
  @Cacheable()
  @Header('Content-Type', 'application/json')
  jsonWithoutCharset() {
    return { text: 'y'.repeat(100) };
  }
}

@Controller('c')
@UseGuards(CountingGuard)
class ControllerGuarded {
  @Get()
  @Cacheable()
  guarded() {
    return { route: 'controller-guarded' };
  }
}

interface LaneApp {
  app: INestApplication;
  url: string;
  /** Hits the lane answered so far (events with reason "fast-lane"). */
  laneHits: () => number;
}

/**
 * An app of `module` with the fast lane on, on `adapter`, listening on a free port; `beforeListen`
 * is what its main.ts would do between create and listen.
 */
async function laneApp(adapter: string, module: Type, beforeListen?: (app: INestApplication) => void): Promise<LaneApp> {
  let hits = 0;
  const { app, url } = await bootApp(adapter, module, (app) => {
    beforeListen?.(app);
    app.get(CacheEvents).subscribe((event) => {
      if (event.type === 'hit' && event.reason === 'fast-lane') hits++;
    });
  });
  return { app, url, laneHits: () => hits };
}

function guardApp(adapter: string, globalGuard: boolean): Promise<LaneApp> {
  @Module({
    imports: [ResponseCacheModule.forRoot({ fastLane: true })],
    controllers: [MethodGuarded, ControllerGuarded],
    providers: globalGuard ? [{ provide: APP_GUARD, useClass: CountingGuard }] : [],
  })
  class GuardModule {}
  return laneApp(adapter, GuardModule);
}

describe.each(ADAPTERS)('the fast lane (%s)', (adapter) => {
  it('a hit of a string body is the same bytes from the lane as from the interceptor, whatever its content type', async () => {
    // One clock for both apps: their entries' Last-Modified (the cache's own validator) is the same.
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const withLane = (fastLane: boolean) => {
      @Module({ imports: [ResponseCacheModule.forRoot({ fastLane, clock })], controllers: [Texts] })
      class TextsModule {}
      return laneApp(adapter, TextsModule);
    };
    const lane = await withLane(true);
    const interceptor = await withLane(false);
    const PER_RESPONSE = ['date', 'age', 'cache-status', 'connection', 'keep-alive'];
    const CONTENT = ['content-type', 'content-length'];
    const hitOf = async (url: string, path: string) => {
      const miss = await rawRequest(url, { path });
      const { status, headers, body } = await rawRequest(url, { path });
      // The content as the handler's response sent it (uncached): the same type, length and bytes.
      expect({ body, headers: CONTENT.map((name) => headers[name]) }).toEqual({
        body: miss.body,
        headers: CONTENT.map((name) => miss.headers[name]),
      });
      return { status, body, headers: Object.fromEntries(Object.entries(headers).filter(([name]) => !PER_RESPONSE.includes(name))) };
    };
    try {
      for (const path of ['/texts/json', '/texts/csv', '/texts/latin1', '/texts/html', '/texts/json-nocharset', '/texts/odd-type']) {
        const fromLane = await hitOf(lane.url, path);
        expect(fromLane.headers['x-cache']).toBe('HIT');
        expect(fromLane).toEqual(await hitOf(interceptor.url, path));
      }
      expect(lane.laneHits()).toBe(6);
    } finally {
      await Promise.all([lane.app.close(), interceptor.app.close()]);
    }
  });

  it("answers through the app's own adapter when it extends Nest's (its reply may do more)", async () => {
    class OwnExpress extends ExpressAdapter {
      override reply(response: unknown, body: unknown, status?: number) {
        (response as { setHeader(n: string, v: string): void }).setHeader('X-Adapter', 'own');
        return super.reply(response, body, status);
      }
    }
    class OwnFastify extends FastifyAdapter {
      override reply(response: unknown, body: unknown, status?: number) {
        (response as { header(n: string, v: string): void }).header('X-Adapter', 'own');
        return super.reply(response as never, body, status);
      }
    }
    @Module({ imports: [ResponseCacheModule.forRoot({ fastLane: true })], controllers: [Texts] })
    class OwnAdapterModule {}
    const app = await NestFactory.create(OwnAdapterModule, adapter === 'fastify' ? new OwnFastify() : new OwnExpress(), { logger: false });
    let hits = 0;
    app.get(CacheEvents).subscribe((event) => void (event.type === 'hit' && event.reason === 'fast-lane' && hits++));
    await app.listen(0, '127.0.0.1');
    try {
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      expect((await rawRequest(url, { path: '/texts/json' })).headers['x-adapter']).toBe('own');
      const hit = await rawRequest(url, { path: '/texts/json' });
      expect([hits, hit.headers['x-cache'], hit.headers['x-adapter']]).toEqual([1, 'HIT', 'own']);
    } finally {
      await app.close();
    }
  });

  it('runs after what main.ts registered (app.use() on Express, an onRequest hook on Fastify)', async () => {
    @Module({ imports: [ResponseCacheModule.forRoot({ fastLane: true })], controllers: [MethodGuarded] })
    class PlainModule {}
    // What an app sets up in main.ts before listen (CORS, helmet, request ids): it sees every request.
    let seen = 0;
    const { app, url, laneHits } = await laneApp(adapter, PlainModule, (created) => {
      const instance = created.getHttpAdapter().getInstance() as {
        addHook?: (name: string, hook: (request: unknown, reply: unknown, done: () => void) => void) => void;
        use: (middleware: (request: unknown, response: unknown, next: () => void) => void) => void;
      };
      if (adapter === 'fastify') {
        instance.addHook!('onRequest', (_request, _reply, done) => {
          seen++;
          done();
        });
      } else {
        instance.use((_request, _response, next) => {
          seen++;
          next();
        });
      }
    });
    try {
      for (let i = 0; i < 4; i++) await rawRequest(url, { path: '/m/free' });
      expect(laneHits()).toBe(3);
      expect(seen).toBe(4);
    } finally {
      await app.close();
    }
  });

  it.each([false, true])('never answers a route with a guard in effect (method, controller; global guard: %s)', async (global) => {
    const { app, url, laneHits: hits } = await guardApp(adapter, global);
    try {
      for (const path of ['/m/guarded', '/c', '/m/free']) {
        CountingGuard.calls = 0;
        const answers = [];
        for (let i = 0; i < 4; i++) answers.push((await rawRequest(url, { path })).headers['x-cache']);
        expect(answers).toEqual(['MISS', 'HIT', 'HIT', 'HIT']);
        // A guarded route runs its guards on every request, hits included (a global and a method guard: twice).
        if (path !== '/m/free' || global) expect(CountingGuard.calls).toBe(global && path !== '/m/free' ? 8 : 4);
      }
      // The unguarded route is the lane's once it has been answered (stored), unless a global guard is in effect.
      expect(hits()).toBe(global ? 0 : 3);
    } finally {
      await app.close();
    }
  });

  describe('answers exactly as the interceptor does', () => {
    let lane: RunningFixture;
    let nest: RunningFixture;

    beforeAll(async () => {
      // Two apps over one store and one clock: one with the lane, one without.
      const store = new MemoryCacheStore();
      const clock = new ManualClock(Date.now());
      lane = await startFixture(adapter, { fastLane: true, store }, clock);
      nest = await startFixture(adapter, { fastLane: false, store }, clock);
    });
    afterAll(async () => {
      await lane.close();
      await nest.close();
    });

    it.each(PATHS)('%s: body, status and every header, plain, gzip, conditional and HEAD', async (path) => {
      // One Host for both apps (keys hold the host), so that they share the entry.
      const host = { host: 'demo.test' };
      const filled = await rawRequest(lane.url, { path, headers: host });
      expect(filled.headers['x-cache']).toBe('MISS');
      lane.clock.advance(2000); // a non-zero Age
      const etag = String(filled.headers.etag);
      const variants: { method?: string; headers?: Record<string, string> }[] = [
        {},
        { headers: { 'accept-encoding': 'gzip, deflate, br' } },
        { headers: { 'if-none-match': etag } },
        { headers: { 'if-none-match': '"other"' } },
        { headers: { 'if-modified-since': String(filled.headers['last-modified']) } },
        { method: 'HEAD' },
        { method: 'HEAD', headers: { 'accept-encoding': 'gzip' } },
      ];
      for (const variant of variants) {
        const before = await laneHits(lane);
        const request = { path, method: variant.method, headers: { ...host, ...variant.headers } };
        const viaLane = await rawRequest(lane.url, request);
        const viaNest = await rawRequest(nest.url, request);
        expect(await laneHits(lane)).toBe(before + 1);
        expect(viaNest.headers['x-cache']).toBe('HIT');
        expect({ variant, ...comparable(viaLane) }).toEqual({ variant, ...comparable(viaNest) });
      }
    });
  });

  describe('never answers what it must not', () => {
    let fixture: RunningFixture;

    beforeEach(async () => {
      fixture = await startFixture(adapter, { fastLane: true });
    });
    afterEach(() => fixture.close());

    it('a URL whose route has not answered through the interceptor yet', async () => {
      // The lane learns a URL when the interceptor answers it, never from the URL alone.
      const first = await rawRequest(fixture.url, { path: '/api/users/2' });
      expect(first.headers['x-cache']).toBe('MISS');
      expect(await laneHits(fixture)).toBe(0);
      expect((await rawRequest(fixture.url, { path: '/api/users/2' })).headers['x-cache']).toBe('HIT');
      expect(await laneHits(fixture)).toBe(1);
      // Another URL of the same route is unknown to the lane until it has been answered once.
      expect((await rawRequest(fixture.url, { path: '/api/users/3' })).headers['x-cache']).toBe('MISS');
      expect(await laneHits(fixture)).toBe(1);
    });

    it('a guarded route, a per-user route', async () => {
      const alice = { authorization: 'Bearer alice' };
      for (let i = 0; i < 3; i++) await rawRequest(fixture.url, { path: '/api/jobs', headers: alice });
      expect((await rawRequest(fixture.url, { path: '/api/jobs', headers: alice })).headers['x-cache']).toBe('HIT');
      expect(await laneHits(fixture)).toBe(0);
    });

    it('a request with Authorization or a cookie, or asking to bypass', async () => {
      await rawRequest(fixture.url, { path: '/api/posts/1' });
      expect((await rawRequest(fixture.url, { path: '/api/posts/1' })).headers['x-cache']).toBe('HIT');
      expect(await laneHits(fixture)).toBe(1);
      const withAuth = await rawRequest(fixture.url, { path: '/api/posts/1', headers: { authorization: 'Bearer alice' } });
      const withCookie = await rawRequest(fixture.url, { path: '/api/posts/1', headers: { cookie: 'session=1' } });
      const bypass = await rawRequest(fixture.url, { path: '/api/posts/1?nocache=1' });
      expect([withAuth, withCookie, bypass].map((r) => r.headers['x-cache'])).toEqual(['BYPASS', 'BYPASS', 'BYPASS']);
      expect(await laneHits(fixture)).toBe(1);
    });

    it('old data after a write was acknowledged', async () => {
      for (let round = 0; round < 20; round++) {
        await rawRequest(fixture.url, { path: '/api/posts/4' });
        const title = `Title ${round}`;
        const write = await fetch(`${fixture.url}/api/posts/4`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ title }),
        });
        expect(write.status).toBe(200);
        const reads = await Promise.all([1, 2, 3].map(() => rawRequest(fixture.url, { path: '/api/posts/4' })));
        expect(reads.map((r) => (JSON.parse(r.body) as { post: { title: string } }).post.title)).toEqual([title, title, title]);
      }
      expect(await laneHits(fixture)).toBeGreaterThan(0);
    });

    it('an expired entry: the interceptor serves and refreshes it', async () => {
      await rawRequest(fixture.url, { path: '/api/users' });
      fixture.clock.advance(301_000);
      const before = await laneHits(fixture);
      expect((await rawRequest(fixture.url, { path: '/api/users' })).headers['x-cache']).toBe('MISS');
      expect(await laneHits(fixture)).toBe(before);
    });
  });

  describe('over a hung Redis', () => {
    let redis: RedisProcess;
    let fixture: RunningFixture;

    beforeAll(async () => {
      redis = await RedisProcess.start();
      // The Redis store as the demo makes it with CACHE_STORE=redis: the store and its stampede lease on one client.
      const clock = new ManualClock(Date.now());
      const prefix = uniquePrefix();
      const client = createRedisClient({ url: redis.url });
      fixture = await startFixture(
        adapter,
        {
          fastLane: true,
          store: new RedisCacheStore({ client, prefix, ownsClient: true, clock }),
          stampede: { lock: new RedisStampedeLock({ client, subscriber: duplicateClient(client), prefix, timeoutMs: 100 }) },
          resilience: { opTimeoutMs: 100, failureThreshold: 1000, cooldownMs: 200 },
        },
        clock,
      );
    });
    afterAll(async () => {
      redis.resume();
      await fixture.close();
      await redis.stop();
    });

    it('costs a lane request one store timeout (the interceptor does not look the key up again), and never fails it', async () => {
      await rawRequest(fixture.url, { path: '/api/users/1' });
      expect((await rawRequest(fixture.url, { path: '/api/users/1' })).headers['x-cache']).toBe('HIT');
      expect(await laneHits(fixture)).toBe(1);
      redis.pause();
      const errorsBefore = await storeGetTimeouts(fixture);
      const res = await rawRequest(fixture.url, { path: '/api/users/1' });
      expect(res.status).toBe(200);
      expect(res.headers['x-cache']).toBe('BYPASS');
      // One timed-out read for the request: the lane's. (The fill's fence snapshot is refused too.)
      expect((await storeGetTimeouts(fixture)) - errorsBefore).toBe(1);
    });
  });
});

/** `cache_store_errors_total{operation="get"}`: reads of the store that failed. */
async function storeGetTimeouts(fixture: RunningFixture): Promise<number> {
  const metric = await fixture.app.get<Counter>(getToken('cache_store_errors_total')).get();
  return metric.values.filter((v) => v.labels.operation === 'get').reduce((sum, v) => sum + v.value, 0);
}
