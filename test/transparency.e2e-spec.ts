import { Controller, Get, Logger, Module, Param, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cacheable, InvalidateTags, MemoryCacheStore, ResponseCacheModule } from 'nestjs-response-cache';
import { ManualClock } from 'nestjs-response-cache/testing';
import { startFixture } from '../check/transparency/fixture-app';
import { Probe, difference, send } from '../check/transparency/run';
import { ADAPTERS } from './support/boot-app';

type Fixture = Awaited<ReturnType<typeof startFixture>>;

const get = (path: string, headers: Record<string, string> = {}): Probe => ({ method: 'GET', path, headers });

/**
 * A cached app answers exactly what the same app answers with the cache off (the cases of the
 * transparency issue): each request goes to both, and the answers are compared as
 * `npm run check:transparency` compares them.
 */
describe.each(ADAPTERS.flatMap((adapter) => [true, false].map((lane) => [adapter, lane] as const)))(
  'transparent to Nest (%s, fast lane %s)',
  (adapter, lane) => {
    let off: Fixture;
    let on: Fixture;

    beforeEach(async () => {
      off = await startFixture({ adapter, cache: false, store: 'memory', lane, versioning: 'header' });
      on = await startFixture({ adapter, cache: true, store: 'memory', lane, versioning: 'header' });
    });
    afterEach(async () => {
      await off.close();
      await on.close();
    });

    /** Sends each probe to both apps; the answers of the app with the cache on. */
    async function both(...probes: Probe[]): Promise<{ status: number; body: string; headers: Record<string, string> }[]> {
      const answers = [];
      for (const probe of probes) {
        const a = await send(off.url, probe);
        const b = await send(on.url, probe);
        expect({ probe, difference: difference(a, b) }).toEqual({ probe, difference: undefined });
        answers.push(b);
      }
      return answers;
    }

    it('response-mapping interceptors (main.ts, APP_INTERCEPTOR, controller, method, ClassSerializerInterceptor) see the handler’s value, on misses and hits', async () => {
      const [miss, hit] = await both(get('/api/users/7'), get('/api/users/7'));
      expect(hit.headers['x-cache']).toBe('HIT');
      expect(JSON.parse(miss.body)).toEqual({ data: { id: 7, name: 'user7', revision: 1 } });
      expect(hit.body).not.toContain('hash-7');
      const admin = await both(get('/api/users/7/admin', { 'x-key': 'k1' }), get('/api/users/7/admin', { 'x-key': 'k1' }));
      expect(JSON.parse(admin[1].body)).toEqual({ data: { id: 7, name: 'user7', email: 'u7@example.test', revision: 1 } });
      await both(get('/api/users/7/admin'), get('/api/secret', { 'x-key': 'k1' }), get('/api/secret', { 'x-key': 'k1' }));
    });

    it('handlers that share a URL (header versioning, a guarded v1 beside a public v2) never share entries', async () => {
      const key = { 'x-key': 'k1' };
      const answers = await both(
        get('/api/versioned', { ...key, 'x-api-version': '1' }),
        get('/api/versioned', { ...key, 'x-api-version': '1' }),
        get('/api/versioned', { 'x-api-version': '2' }),
        get('/api/versioned', { 'x-api-version': '1' }),
        get('/api/versioned'),
      );
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 403, 404]);
      expect(answers[2].body).not.toContain('secret');
    });

    it('the key is the path the router matched: a spelling routed elsewhere never gets another spelling’s entry', async () => {
      const answers = await both(
        get('/api/items/f%65atured'),
        get('/api/items/f%65atured'),
        get('/api/items/featured'),
        get('/api/items/featured'),
        get('/api/items/alpha'),
        get('/api/items/alpha'),
        get('/api/it%65ms/alpha'),
        get('/%61pi/items/alpha'),
      );
      expect(JSON.parse(answers[2].body).data.route).toBe('featured');
    });

    it('middleware and hooks that refuse a request run before every hit (MiddlewareConsumer, main.ts middleware, Fastify preHandler)', async () => {
      const answers = await both(
        get('/api/mw', { 'x-mw-key': 'm1' }),
        get('/api/mw', { 'x-mw-key': 'm1' }),
        get('/api/mw'),
        get('/api/mw', { 'x-mw-key': 'wrong' }),
        get('/api/items/beta', { 'x-hook-key': 'h1' }),
        get('/api/items/beta', { 'x-hook-key': 'h1' }),
        get('/api/items/beta'),
      );
      expect(answers.map((a) => a.status)).toEqual([200, 200, 403, 403, 200, 200, 401]);
    });
  },
);

@Controller('articles')
class ArticlesController {
  @Post(':slug/favorite')
  @InvalidateTags('articles', 'article:{id}')
  favorite(@Param('slug') slug: string) {
    return { slug };
  }
}

@Controller('plain')
class PlainController {
  @Get()
  @Cacheable()
  read() {
    return { ok: true };
  }
}

describe('checked at startup', () => {
  it('a tag template naming a parameter the route lacks stops the app, naming the route, the template and the parameter', async () => {
    @Module({ imports: [ResponseCacheModule.forRoot({ store: new MemoryCacheStore() })], controllers: [ArticlesController] })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger: false });
    await expect(app.init()).rejects.toThrow(
      /POST \/articles\/:slug\/favorite \(ArticlesController\.favorite\).*"article:\{id\}".*"id".*slug/,
    );
    await app.close();
  });

  it('@Cacheable without ResponseCacheModule stops the app', async () => {
    @Module({ controllers: [PlainController] })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger: false });
    await expect(app.init()).rejects.toThrow(/found no ResponseCacheModule/);
    await app.close();
  });
});

describe('a tag that cannot be resolved at run time', () => {
  it('never keeps the write’s other tags from being invalidated, and says which tag and route', async () => {
    const broken = () => '';
    @Controller('things')
    class ThingsController {
      revision = 1;
      @Get()
      @Cacheable({ tags: ['things'] })
      read() {
        return { revision: this.revision };
      }
      @Post()
      @InvalidateTags(broken, 'things')
      write() {
        return { revision: ++this.revision };
      }
    }
    @Module({
      imports: [ResponseCacheModule.forRoot({ store: new MemoryCacheStore(), clock: new ManualClock(Date.now()) })],
      controllers: [ThingsController],
    })
    class AppModule {}
    const warnings: string[] = [];
    const app = await NestFactory.create(AppModule, { logger: false });
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    await app.listen(0, '127.0.0.1');
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    try {
      await fetch(`${url}/things`);
      expect((await fetch(`${url}/things`)).headers.get('x-cache')).toBe('HIT');
      expect((await fetch(`${url}/things`, { method: 'POST' })).status).toBe(201);
      const after = await fetch(`${url}/things`);
      expect(after.headers.get('x-cache')).toBe('MISS');
      expect(await after.json()).toEqual({ revision: 2 });
      expect(warnings.join('\n')).toMatch(
        /tag function broken .*POST \/things \(ThingsController\.write\).*other 1 tag\(s\) and its URI were invalidated/,
      );
    } finally {
      warn.mockRestore();
      await app.close();
    }
  });
});
