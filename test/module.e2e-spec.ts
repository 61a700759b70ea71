import { Adapter, ADAPTERS, bootApp, BootedApp } from './support/boot-app';
import { Controller, Get, Header, HttpCode, INestApplication, Module, Post, Res, StreamableFile } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Readable } from 'node:stream';
import { Cacheable, NoCache, ResponseCacheConfigError, ResponseCacheInterceptor, ResponseCacheModule } from 'nestjs-response-cache';
import { ManualClock } from 'nestjs-response-cache/testing';
import { loadDemoConfig } from '../apps/demo/src/demo.config';

let calls = 0;

@Controller('plain')
class PlainController {
  @Get()
  plain() {
    calls++;
    return { plain: true };
  }
}

@Controller('cached')
@Cacheable({ ttl: 60, tags: ['cached'] })
class CachedController {
  @Get('json')
  json() {
    calls++;
    return { n: calls };
  }

  @Get('text')
  text() {
    calls++;
    return `text ${calls}`;
  }

  @Get('excluded')
  @NoCache()
  excluded() {
    calls++;
    return { n: calls };
  }

  @Get('lang')
  @Cacheable({ varyBy: ['Accept-Language'] })
  lang() {
    calls++;
    return { n: calls };
  }

  @Get('cookie')
  @Header('Set-Cookie', 'sid=1')
  cookie() {
    calls++;
    return { n: calls };
  }

  @Get('private')
  @Header('Cache-Control', 'private')
  privateOne() {
    calls++;
    return { n: calls };
  }

  @Get('vary-star')
  @Header('Vary', '*')
  varyStar() {
    calls++;
    return { n: calls };
  }

  @Get('created')
  @HttpCode(201)
  created() {
    calls++;
    return { n: calls };
  }

  @Get('stream')
  stream() {
    calls++;
    return new StreamableFile(Readable.from([Buffer.from('bytes')]));
  }

  /** No tags anywhere: RFC 9111 §4.4 invalidates GET /cached/json after a successful POST to it. */
  @Post('json')
  touch() {
    return { touched: true };
  }

  @Post('elsewhere')
  @Header('Location', '/cached/text')
  create() {
    return { created: true };
  }

  @Get('raw')
  raw(@Res({ passthrough: true }) _res: unknown) {
    calls++;
    return { n: calls };
  }
}

/** A feature module that does not import ResponseCacheModule: the decorators still work. */
@Controller('feature')
class FeatureController {
  @Get()
  @Cacheable({ ttl: 60 })
  feature() {
    calls++;
    return { n: calls };
  }
}

@Module({ controllers: [FeatureController] })
class FeatureModule {}

@Module({
  imports: [ResponseCacheModule.forRoot({ clock: new ManualClock() }), FeatureModule],
  controllers: [PlainController, CachedController],
})
class TestModule {}

type Binding = 'decorators' | 'global';

function boot(adapter: Adapter, binding: Binding): Promise<BootedApp> {
  return bootApp(adapter, TestModule, (app) => {
    if (binding === 'global') app.useGlobalInterceptors(app.get(ResponseCacheInterceptor));
  });
}

const CASES = ADAPTERS.flatMap((adapter) => (['decorators', 'global'] as Binding[]).map((binding) => [adapter, binding] as const));

describe.each(CASES)('ResponseCacheModule on %s, interceptor bound by %s', (adapter, binding) => {
  let app: INestApplication;
  let url: string;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${url}${path}`, { headers });
  const twice = async (path: string, headers: Record<string, string> = {}) => {
    const first = await get(path, headers);
    const second = await get(path, headers);
    return { first, second, firstBody: await first.text(), secondBody: await second.text() };
  };

  beforeAll(async () => {
    ({ app, url } = await boot(adapter, binding));
  });
  afterAll(async () => {
    await app.close();
  });

  it('leaves undecorated routes alone', async () => {
    const res = await get('/plain');
    expect(res.headers.get('x-cache')).toBeNull();
    expect(res.headers.get('cache-status')).toBeNull();
    expect(await res.json()).toEqual({ plain: true });
  });

  it('caches routes of a feature module that does not import the cache module', async () => {
    const { second, firstBody, secondBody } = await twice('/feature');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(secondBody).toBe(firstBody);
  });

  it('runs once per request when bound more than once (class and method, or also globally)', async () => {
    const before = calls;
    const res = await get('/cached/lang', { 'accept-language': 'de' });
    expect(res.headers.get('x-cache')).toBe('MISS');
    expect(calls).toBe(before + 1);
  });

  it('caches every GET of a class-level @Cacheable controller', async () => {
    const { second, firstBody, secondBody } = await twice('/cached/json');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(secondBody).toBe(firstBody);
  });

  it('caches strings with the content type the platform gives them (Express: HTML, Fastify: text)', async () => {
    const { second, firstBody, secondBody } = await twice('/cached/text');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.headers.get('content-type')).toMatch(adapter === 'express' ? /^text\/html/ : /^text\/plain/);
    expect(secondBody).toBe(firstBody);
  });

  it('@NoCache excludes a handler', async () => {
    const { second, firstBody, secondBody } = await twice('/cached/excluded');
    expect(second.headers.get('x-cache')).toBeNull();
    expect(secondBody).not.toBe(firstBody);
  });

  it('varyBy splits the cache and says Vary', async () => {
    const en = await twice('/cached/lang', { 'accept-language': 'en' });
    const fr = await get('/cached/lang', { 'accept-language': 'fr' });
    expect(en.second.headers.get('x-cache')).toBe('HIT');
    expect(en.second.headers.get('vary')).toBe('Accept-Encoding, accept-language');
    expect(fr.headers.get('x-cache')).toBe('MISS');
    expect(await fr.text()).not.toBe(en.firstBody);
  });

  it.each([
    ['/cached/cookie', 'set-cookie'],
    ['/cached/private', 'response-cache-control'],
    ['/cached/vary-star', 'vary-star'],
    ['/cached/created', 'status'],
    ['/cached/stream', 'unsupported-body'],
  ])('does not store %s (%s)', async (path, reason) => {
    const { first, second, secondBody } = await twice(path);
    expect(first.headers.get('x-cache')).toBe('BYPASS');
    expect(second.headers.get('x-cache')).toBe('BYPASS');
    expect(second.headers.get('cache-status')).toBe(`ResponseCache; fwd=bypass; detail=${reason}`);
    if (path === '/cached/stream') expect(secondBody).toBe('bytes');
  });

  it('a successful unsafe request invalidates the cached GET of its URI and of its Location (RFC 9111 §4.4)', async () => {
    await get('/cached/json');
    expect((await get('/cached/json')).headers.get('x-cache')).toBe('HIT');
    expect((await fetch(`${url}/cached/json`, { method: 'POST' })).status).toBe(201);
    expect((await get('/cached/json')).headers.get('x-cache')).toBe('MISS');

    await get('/cached/text');
    expect((await get('/cached/text')).headers.get('x-cache')).toBe('HIT');
    await fetch(`${url}/cached/elsewhere`, { method: 'POST' });
    expect((await get('/cached/text')).headers.get('x-cache')).toBe('MISS');
  });

  it('caches handlers that use @Res({ passthrough: true })', async () => {
    const { second, firstBody, secondBody } = await twice('/cached/raw');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(secondBody).toBe(firstBody);
  });
});

describe('startup validation', () => {
  it('a bad module option fails at startup with a message naming the option and the fix', async () => {
    @Module({ imports: [ResponseCacheModule.forRoot({ ttl: -5 })] })
    class BadModule {}
    const attempt = NestFactory.create(BadModule, { logger: false, abortOnError: false });
    await expect(attempt).rejects.toThrow(ResponseCacheConfigError);
    await expect(NestFactory.create(BadModule, { logger: false, abortOnError: false })).rejects.toThrow(/"ttl".*seconds/);
  });

  it('a bad demo variable names the variable and the expected value', () => {
    expect(() => loadDemoConfig({ CACHE_TTL_SECONDS: 'soon' })).toThrow(/CACHE_TTL_SECONDS="soon" is invalid: expected a number/);
    expect(() => loadDemoConfig({ HTTP_ADAPTER: 'koa' })).toThrow(/express or fastify/);
    expect(() => loadDemoConfig({ CACHE_OP_TIMEOUT_MS: '1000' })).toThrow(/CACHE_OP_TIMEOUT_MS/);
    expect(() => loadDemoConfig({ DATABASE_URL: 'mysql://root:secret@db/app' })).toThrow(/DATABASE_URL.*postgres:\/\//);
    expect(() => loadDemoConfig({ DATABASE_URL: 'mysql://root:secret@db/app' })).not.toThrow(/secret/);
    expect(loadDemoConfig({ DATABASE_URL: ' postgres://u@h/d ' }).databaseUrl).toBe('postgres://u@h/d');
    expect(() => loadDemoConfig({ REDIS_SENTINELS: 'sentinel-1' })).toThrow(
      /REDIS_SENTINELS="sentinel-1" is invalid: expected comma-separated host:port pairs/,
    );
    expect(loadDemoConfig({ REDIS_SENTINELS: 's1:26379, s2:26379', REDIS_SENTINEL_NAME: 'cache' })).toMatchObject({
      redisSentinels: ['s1:26379', 's2:26379'],
      redisSentinelName: 'cache',
    });
    expect(loadDemoConfig({})).toMatchObject({
      port: 3000,
      httpAdapter: 'express',
      cacheStore: 'memory',
      cacheTtlSeconds: 300,
      cacheKeyPrefix: 'rc:',
      cacheMaxMemoryMb: 100,
      dbLatencyMs: 0,
      databaseUrl: undefined,
      redisSentinels: [],
      redisSentinelName: 'mymaster',
      redisWaitReplicas: 0,
    });
  });
});
