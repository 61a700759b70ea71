import { ADAPTERS, bootApp } from './support/boot-app';
import { Controller, Get, INestApplication, Module, Param, Post, Put, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cacheable, InvalidateTags, MemoryCacheStore, ResponseCacheModule, ResponseCacheService } from 'nestjs-response-cache';
import { CacheEngine } from 'nestjs-response-cache/internal/engine/cache-engine';
import { ManualClock } from 'nestjs-response-cache/testing';

type Request = { headers: Record<string, string | undefined> };
const viewerOf = (req: Request) => req.headers['x-user'] ?? null;

/** Optional auth: anonymous callers share one entry, identified callers get their own. */
@Controller('feed')
class FeedController {
  reads = 0;

  @Get()
  @Cacheable({ scope: 'user', anonymous: 'public', ttl: 60, tags: ['feed'] })
  feed(@Req() req: Request) {
    return { viewer: viewerOf(req), reads: ++this.reads };
  }

  @Put()
  @InvalidateTags('unrelated')
  update() {
    return { updated: true };
  }

  @Post('refresh')
  @InvalidateTags('feed')
  refresh() {
    return { refreshed: true };
  }
}

/** `{user}`: each caller's inbox is tagged with the caller, and a caller's write invalidates only theirs. */
@Controller('inbox')
class InboxController {
  @Get()
  @Cacheable({ scope: 'user', anonymous: 'public', ttl: 60, tags: ['inbox:{user}'] })
  list(@Req() req: Request) {
    return { owner: viewerOf(req) };
  }

  @Post('messages')
  @InvalidateTags('inbox:{user}')
  send() {
    return { sent: true };
  }
}

interface Article {
  id: number;
  title: string;
}

/** Tags from the data: a list is tagged with the articles on it. */
@Controller('articles')
class ArticlesController {
  readonly articles: Article[] = [1, 2, 3, 4].map((id) => ({ id, title: `title ${id}` }));

  @Get('page/:page')
  @Cacheable({
    ttl: 60,
    resultTags: (page: { articles: Article[] }) => page.articles.map((a) => `article:${a.id}`),
  })
  page(@Param('page') page: string) {
    const start = (Number(page) - 1) * 2;
    return { articles: this.articles.slice(start, start + 2) };
  }

  /** The same page, served stale for 30 s past its TTL while a background refresh runs. */
  @Get('stale-page/:page')
  @Cacheable({
    ttl: 60,
    staleWhileRevalidate: 30,
    resultTags: (page: { articles: Article[] }) => page.articles.map((a) => `article:${a.id}`),
  })
  stalePage(@Param('page') page: string) {
    return this.page(page);
  }

  @Put(':id')
  @InvalidateTags('article:{id}')
  rename(@Param('id') id: string) {
    const article = this.articles.find((a) => a.id === Number(id));
    if (article !== undefined) article.title += '!';
    return article;
  }
}

const clock = new ManualClock();

@Module({
  imports: [
    ResponseCacheModule.forRoot({
      store: new MemoryCacheStore({ clock }),
      clock,
      identity: { user: (context) => context.switchToHttp().getRequest<Request>().headers['x-user'] },
    }),
  ],
  controllers: [FeedController, InboxController, ArticlesController],
})
class AppModule {}

describe.each(ADAPTERS)('tags from the caller and the data, optional-auth routes (%s)', (adapter) => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await bootApp(adapter, AppModule));
  });
  afterAll(async () => {
    await app.close();
  });

  const call = async (path: string, user?: string, method = 'GET') => {
    const res = await fetch(`${url}${path}`, { method, headers: user === undefined ? {} : { 'x-user': user } });
    const text = await res.text();
    return {
      status: res.status,
      cache: res.headers.get('x-cache'),
      cacheControl: res.headers.get('cache-control'),
      body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
    };
  };
  const cacheOf = async (path: string, user?: string) => (await call(path, user)).cache;

  describe('anonymous: "public"', () => {
    it('anonymous callers share a public entry; identified callers get their own, private; nobody gets another’s body', async () => {
      const anonymous = await call('/feed');
      expect(anonymous).toMatchObject({ cache: 'MISS', body: { viewer: null } });
      expect(anonymous.cacheControl).not.toMatch(/private/);
      expect(await call('/feed')).toMatchObject({ cache: 'HIT', body: { viewer: null } });

      const alice = await call('/feed', 'alice');
      expect(alice).toMatchObject({ cache: 'MISS', body: { viewer: 'alice' } });
      expect(alice.cacheControl).toMatch(/private/);
      expect(await call('/feed', 'alice')).toMatchObject({ cache: 'HIT', body: { viewer: 'alice' } });
      expect(await call('/feed', 'bob')).toMatchObject({ cache: 'MISS', body: { viewer: 'bob' } });
      // Ids that look like markers get partitions of their own too.
      for (const odd of ['', '*', 'a:u', 'anonymous']) {
        expect(await call('/feed', odd)).toMatchObject({ cache: 'MISS', body: { viewer: odd } });
      }
      expect(await call('/feed')).toMatchObject({ cache: 'HIT', body: { viewer: null } });
      expect(await call('/feed', 'bob')).toMatchObject({ cache: 'HIT', body: { viewer: 'bob' } });
    });

    it("a user's write to the URI invalidates that user's entry and the shared anonymous one, never another user's", async () => {
      for (const user of [undefined, 'alice', 'bob']) await call('/feed', user);
      expect([await cacheOf('/feed'), await cacheOf('/feed', 'alice'), await cacheOf('/feed', 'bob')]).toEqual(['HIT', 'HIT', 'HIT']);
      expect((await call('/feed', 'alice', 'PUT')).status).toBe(200);
      expect([await cacheOf('/feed', 'alice'), await cacheOf('/feed', 'bob'), await cacheOf('/feed')]).toEqual(['MISS', 'HIT', 'MISS']);
    });

    it('a declared tag invalidates both partitions', async () => {
      for (const user of [undefined, 'alice', 'bob']) await call('/feed', user);
      expect((await call('/feed/refresh', 'carol', 'POST')).status).toBe(201);
      expect([await cacheOf('/feed'), await cacheOf('/feed', 'alice'), await cacheOf('/feed', 'bob')]).toEqual(['MISS', 'MISS', 'MISS']);
    });
  });

  describe('{user}', () => {
    it("tags each caller's entry with the caller: a write by alice invalidates her inbox only", async () => {
      expect([await cacheOf('/inbox', 'alice'), await cacheOf('/inbox', 'alice')]).toEqual(['MISS', 'HIT']);
      expect([await cacheOf('/inbox', 'bob'), await cacheOf('/inbox', 'bob')]).toEqual(['MISS', 'HIT']);
      expect((await call('/inbox/messages', 'alice', 'POST')).status).toBe(201);
      expect(await call('/inbox', 'alice')).toMatchObject({ cache: 'MISS', body: { owner: 'alice' } });
      expect(await cacheOf('/inbox', 'bob')).toBe('HIT');
      // Outside a request (a worker, say): the service spells the tag as routes do.
      const cache = app.get(ResponseCacheService);
      await cache.invalidateTags([cache.userTag('inbox:{user}', 'bob')]);
      expect([await cacheOf('/inbox', 'bob'), await cacheOf('/inbox', 'alice')]).toEqual(['MISS', 'HIT']);
    });

    it('an anonymous caller, for whom {user} cannot be resolved, is served without storing', async () => {
      expect(await call('/inbox')).toMatchObject({ cache: 'BYPASS', body: { owner: null } });
      expect(await cacheOf('/inbox')).toBe('BYPASS');
    });
  });

  describe('resultTags', () => {
    it('a write to one article invalidates only the pages that hold it', async () => {
      expect([await cacheOf('/articles/page/1'), await cacheOf('/articles/page/2')]).toEqual(['MISS', 'MISS']);
      expect([await cacheOf('/articles/page/1'), await cacheOf('/articles/page/2')]).toEqual(['HIT', 'HIT']);
      expect((await call('/articles/3', undefined, 'PUT')).status).toBe(200);
      expect(await cacheOf('/articles/page/1')).toBe('HIT');
      const page2 = await call('/articles/page/2');
      expect(page2).toMatchObject({ cache: 'MISS', body: { articles: [{ id: 3, title: 'title 3!' }, { id: 4 }] } });
    });

    it('the background refresh of a stale entry stores it with its result tags too', async () => {
      expect([await cacheOf('/articles/stale-page/1'), await cacheOf('/articles/stale-page/1')]).toEqual(['MISS', 'HIT']);
      clock.advance(61_000);
      expect(await cacheOf('/articles/stale-page/1')).toBe('STALE'); // a refresh runs in the background
      await app.get(CacheEngine).settle();
      expect(await cacheOf('/articles/stale-page/1')).toBe('HIT');
      expect((await call('/articles/2', undefined, 'PUT')).status).toBe(200);
      expect(await cacheOf('/articles/stale-page/1')).toBe('MISS');
    });
  });
});

describe('{user} is checked at startup', () => {
  const fails = async (controller: new () => unknown, message: RegExp) => {
    @Module({ imports: [ResponseCacheModule.forRoot({ store: new MemoryCacheStore() })], controllers: [controller] })
    class BadModule {}
    const app = await NestFactory.create(BadModule, { logger: false });
    await expect(app.init()).rejects.toThrow(message);
    await app.close();
  };

  it('on a route whose entries are not per user', async () => {
    @Controller('public')
    class PublicController {
      @Get()
      @Cacheable({ tags: ['feed:{user}'] })
      read() {
        return {};
      }
    }
    await fails(PublicController, /GET \/public \(PublicController\.read\).*"feed:\{user\}".*not per user.*scope: "user"/);
  });

  it('on a route with a parameter named user', async () => {
    @Controller('users/:user/feed')
    class UserFeedController {
      @Get()
      @Cacheable({ scope: 'user', tags: ['feed:{user}'] })
      read() {
        return {};
      }
    }
    await fails(UserFeedController, /"feed:\{user\}".*parameter "user"/);
  });
});
