import { ADAPTERS, bootApp } from './support/boot-app';
import { Controller, Get, HttpException, INestApplication, Module, Res } from '@nestjs/common';
import { Cacheable, ResponseCacheModule } from 'nestjs-response-cache';
import { ManualClock } from 'nestjs-response-cache/testing';
import { setHeader } from './support/set-header';

const clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0));
/** What the origin (the handler) answers next: headers, and a status to fail with. */
let origin: { headers: Record<string, string>; failWith?: number } = { headers: {} };
let runs = 0;

function answer(res: unknown) {
  if (origin.failWith !== undefined) throw new HttpException('origin down', origin.failWith);
  for (const [name, value] of Object.entries(origin.headers)) setHeader(res, name, value);
  return { runs: ++runs };
}

@Controller('r')
class OriginController {
  @Get('explicit')
  @Cacheable({ freshness: 'response' })
  explicit(@Res({ passthrough: true }) res: unknown) {
    return answer(res);
  }

  @Get('heuristic')
  @Cacheable({ freshness: 'response', ttl: 30 })
  heuristic(@Res({ passthrough: true }) res: unknown) {
    return answer(res);
  }
}

@Module({ imports: [ResponseCacheModule.forRoot({ clock, compression: { enabled: false } })], controllers: [OriginController] })
class OriginModule {}

describe.each(ADAPTERS)("freshness: 'response', an RFC 9111 shared cache in front of the handler (%s)", (adapter) => {
  let app: INestApplication;
  let url: string;
  let path = 0;
  beforeAll(async () => {
    ({ app, url } = await bootApp(adapter, OriginModule));
  });
  afterAll(async () => {
    await app.close();
  });

  /** A fresh URL for each test (the query keys it), so tests do not share entries. */
  const fresh = (route: string) => `/r/${route}?t=${++path}`;
  const get = async (p: string) => {
    const res = await fetch(`${url}${p}`);
    const text = await res.text();
    return {
      status: res.status,
      xCache: res.headers.get('x-cache'),
      age: res.headers.get('age'),
      cc: res.headers.get('cache-control'),
      text,
    };
  };

  it.each([
    ['max-age', { 'cache-control': 'max-age=10' }, 10],
    ['s-maxage over max-age', { 'cache-control': 's-maxage=5, max-age=100' }, 5],
  ])('%s sets the lifetime', async (_, headers, seconds) => {
    origin = { headers };
    const p = fresh('explicit');
    expect((await get(p)).xCache).toBe('MISS');
    clock.advance((seconds - 1) * 1000);
    expect((await get(p)).xCache).toBe('HIT');
    clock.advance(2000);
    expect((await get(p)).xCache).toBe('MISS');
  });

  it('Expires minus Date, and the library writes no Cache-Control of its own', async () => {
    const now = clock.now();
    origin = { headers: { date: new Date(now).toUTCString(), expires: new Date(now + 20_000).toUTCString() } };
    const p = fresh('explicit');
    const miss = await get(p);
    expect(miss.cc).toBeNull();
    clock.advance(19_000);
    const hit = await get(p);
    expect([hit.xCache, hit.cc]).toEqual(['HIT', null]);
    clock.advance(2000);
    expect((await get(p)).xCache).toBe('MISS');
  });

  it("the response's Age counts: toward expiry, and in the Age of hits", async () => {
    origin = { headers: { 'cache-control': 'max-age=10', age: '8' } };
    const p = fresh('explicit');
    await get(p);
    clock.advance(1000);
    const hit = await get(p);
    expect([hit.xCache, hit.age]).toEqual(['HIT', '9']);
    clock.advance(2000);
    expect((await get(p)).xCache).toBe('MISS');
  });

  it('without explicit freshness: stored only where the decorator gives a ttl (the heuristic)', async () => {
    origin = { headers: {} };
    const explicitRoute = fresh('explicit');
    await get(explicitRoute);
    expect((await get(explicitRoute)).xCache).toBe('BYPASS');
    const heuristicRoute = fresh('heuristic');
    await get(heuristicRoute);
    expect((await get(heuristicRoute)).xCache).toBe('HIT');
  });

  it('stale-if-error comes from the response, and must-revalidate stops it', async () => {
    origin = { headers: { 'cache-control': 'max-age=1, stale-if-error=60' } };
    const p = fresh('explicit');
    await get(p);
    clock.advance(5000);
    origin = { headers: {}, failWith: 503 };
    const stale = await get(p);
    expect([stale.status, stale.xCache]).toEqual([200, 'STALE']);

    origin = { headers: { 'cache-control': 'max-age=1, stale-if-error=60, must-revalidate' } };
    const q = fresh('explicit');
    await get(q);
    clock.advance(5000);
    origin = { headers: {}, failWith: 503 };
    expect((await get(q)).status).toBe(503);
  });
});
