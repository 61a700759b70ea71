import { Adapter, ADAPTERS, bootApp } from './support/boot-app';
import { Controller, Delete, Get, HttpException, INestApplication, Module, Post, Put, Redirect, Req, Res, Type } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { Cacheable, ResponseCacheInterceptor, ResponseCacheModule } from 'nestjs-response-cache';
import { ManualClock } from 'nestjs-response-cache/testing';
import { setHeader } from './support/set-header';

let runs = 0;
const clock = new ManualClock(Date.now());
let failing = false;
const LAST_MODIFIED = 'Wed, 21 Oct 2015 07:28:00 GMT';

@Controller('h')
class HandlerController {
  @Get('cc')
  @Cacheable()
  cc(@Res({ passthrough: true }) res: unknown) {
    setHeader(res, 'Cache-Control', 'public, max-age=60');
    return { runs: ++runs };
  }

  @Get('private')
  @Cacheable()
  private(@Res({ passthrough: true }) res: unknown) {
    setHeader(res, 'Cache-Control', 'private, max-age=60');
    return { runs: ++runs };
  }

  @Get('no-store')
  @Cacheable()
  noStore(@Res({ passthrough: true }) res: unknown) {
    setHeader(res, 'Cache-Control', 'no-store');
    return { runs: ++runs };
  }

  @Get('no-cache')
  @Cacheable()
  noCache(@Res({ passthrough: true }) res: unknown) {
    setHeader(res, 'Cache-Control', 'no-cache');
    return { runs: ++runs };
  }

  @Get('validators')
  @Cacheable()
  validators(@Res({ passthrough: true }) res: unknown) {
    setHeader(res, 'ETag', '"v1"');
    setHeader(res, 'Last-Modified', LAST_MODIFIED);
    return { runs: ++runs };
  }

  @Get('custom')
  @Cacheable()
  custom(@Res({ passthrough: true }) res: unknown) {
    setHeader(res, 'X-Frame-Options', 'DENY');
    setHeader(res, 'Content-Security-Policy', "default-src 'none'");
    setHeader(res, 'X-Custom', 'kept');
    return { runs: ++runs };
  }

  @Get('lang')
  @Cacheable()
  lang(@Req() req: { headers: Record<string, string | undefined> }, @Res({ passthrough: true }) res: unknown) {
    setHeader(res, 'Vary', 'Accept-Language');
    return { lang: req.headers['accept-language'] ?? 'none', runs: ++runs };
  }

  @Get('stale-ok')
  @Cacheable({ ttl: 1, staleIfError: 60 })
  staleOk(@Res({ passthrough: true }) res: unknown) {
    if (failing) throw new HttpException('origin down', 503);
    setHeader(res, 'Cache-Control', 'max-age=1');
    return { runs: ++runs };
  }

  @Get('must-revalidate')
  @Cacheable({ ttl: 1, staleIfError: 60 })
  mustRevalidate(@Res({ passthrough: true }) res: unknown) {
    if (failing) throw new HttpException('origin down', 503);
    setHeader(res, 'Cache-Control', 'max-age=1, must-revalidate');
    return { runs: ++runs };
  }

  @Get('vary-star')
  @Cacheable()
  varyStar(@Res({ passthrough: true }) res: unknown) {
    setHeader(res, 'Vary', '*');
    return { runs: ++runs };
  }
}

@Module({ imports: [ResponseCacheModule.forRoot({ clock, compression: { enabled: false } })], controllers: [HandlerController] })
class HandlerModule {}

@Controller('g')
class GlobalController {
  private version = 1;

  @Get('item')
  @Cacheable()
  get() {
    return { version: this.version };
  }

  @Put('item')
  put() {
    return { version: ++this.version };
  }

  @Delete('item')
  remove() {
    return { version: ++this.version };
  }

  @Post('item')
  @Redirect('/g/item', 303)
  replace() {
    this.version++;
  }
}

/** The interceptor bound globally: undecorated writes reach it too. */
@Module({
  imports: [ResponseCacheModule.forRoot()],
  controllers: [GlobalController],
  providers: [{ provide: APP_INTERCEPTOR, useExisting: ResponseCacheInterceptor }],
})
class GlobalModule {}

const boot = (adapter: Adapter, module: Type) => bootApp(adapter, module);

describe.each(ADAPTERS)("the handler's HTTP is the authority (%s)", (adapter) => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await boot(adapter, HandlerModule));
  });
  afterAll(async () => {
    await app.close();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}${path}`, { headers });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, xCache: res.headers.get('x-cache') };
  };

  it("a handler's Cache-Control reaches the client unchanged on the miss, the hit and the 304", async () => {
    const miss = await get('/h/cc');
    const hit = await get('/h/cc');
    const notModified = await get('/h/cc', { 'if-none-match': hit.headers.get('etag') ?? '' });
    expect([miss.xCache, hit.xCache, notModified.status]).toEqual(['MISS', 'HIT', 304]);
    for (const r of [miss, hit, notModified]) expect(r.headers.get('cache-control')).toBe('public, max-age=60');
  });

  it.each([
    ['/h/private', 'private, max-age=60'],
    ['/h/no-store', 'no-store'],
    ['/h/no-cache', 'no-cache'],
  ])('%s: not stored (the handler runs each time) and its Cache-Control is sent as it is', async (path, cacheControl) => {
    const first = await get(path);
    const second = await get(path);
    expect([first.xCache, second.xCache]).toEqual(['BYPASS', 'BYPASS']);
    expect(JSON.parse(second.text).runs).toBe(JSON.parse(first.text).runs + 1);
    for (const r of [first, second]) expect(r.headers.get('cache-control')).toBe(cacheControl);
  });

  it("the handler's ETag and Last-Modified are the validators, stored and used for 304s", async () => {
    const miss = await get('/h/validators');
    const hit = await get('/h/validators');
    for (const r of [miss, hit]) {
      expect(r.headers.get('etag')).toBe('"v1"');
      expect(r.headers.get('last-modified')).toBe(LAST_MODIFIED);
    }
    expect((await get('/h/validators', { 'if-none-match': '"v1"' })).status).toBe(304);
    expect((await get('/h/validators', { 'if-modified-since': 'Thu, 22 Oct 2015 07:28:00 GMT' })).status).toBe(304);
    expect((await get('/h/validators', { 'if-none-match': '"v0"' })).status).toBe(200);
  });

  it('every end-to-end header the handler sets is stored and sent on hits', async () => {
    await get('/h/custom');
    const hit = await get('/h/custom');
    expect(hit.xCache).toBe('HIT');
    expect(hit.headers.get('x-frame-options')).toBe('DENY');
    expect(hit.headers.get('content-security-policy')).toBe("default-src 'none'");
    expect(hit.headers.get('x-custom')).toBe('kept');
  });

  it("a response's Vary selects among stored variants: one language is never served to another", async () => {
    const seen: [string, string | null, string][] = [];
    for (const lang of ['en', 'en', 'fr', 'fr', 'en', 'de', 'fr']) {
      const r = await get('/h/lang', { 'accept-language': lang });
      seen.push([lang, r.xCache, JSON.parse(r.text).lang]);
      expect(r.headers.get('vary')).toBe('Accept-Language');
    }
    for (const [lang, , served] of seen) expect(served).toBe(lang);
    // The first response teaches the route that it varies on Accept-Language: from then on keys hold
    // its value, and that first entry is stored under the key its own Vary implies, so the second
    // request of the same variant is a hit.
    expect(seen.map(([, xCache]) => xCache)).toEqual(['MISS', 'HIT', 'MISS', 'HIT', 'HIT', 'MISS', 'HIT']);
  });

  it("the handler's must-revalidate stops stale-if-error from serving stale (RFC 9111 §4.2.4)", async () => {
    failing = false;
    await get('/h/stale-ok');
    await get('/h/must-revalidate');
    clock.advance(5000);
    failing = true;
    try {
      expect((await get('/h/stale-ok')).xCache).toBe('STALE');
      expect((await get('/h/must-revalidate')).status).toBe(503);
    } finally {
      failing = false;
    }
  });

  it('Vary: * is never stored and is sent as it is', async () => {
    const first = await get('/h/vary-star');
    const second = await get('/h/vary-star');
    expect([first.xCache, second.xCache]).toEqual(['BYPASS', 'BYPASS']);
    expect(second.headers.get('vary')).toBe('*');
  });
});

describe.each(ADAPTERS)('with the interceptor bound globally, undecorated writes invalidate their URI (%s)', (adapter) => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await boot(adapter, GlobalModule));
  });
  afterAll(async () => {
    await app.close();
  });

  const xCache = async () => {
    const res = await fetch(`${url}/g/item`);
    await res.arrayBuffer();
    return res.headers.get('x-cache');
  };

  it.each([
    ['PUT', 200],
    ['DELETE', 200],
    ['POST', 303],
  ])('%s (%d)', async (method, status) => {
    await xCache();
    expect(await xCache()).toBe('HIT');
    expect((await fetch(`${url}/g/item`, { method, redirect: 'manual' })).status).toBe(status);
    expect(await xCache()).toBe('MISS');
  });
});
