import { Agent, interceptors, request } from 'undici';
import { ADAPTERS } from './support/boot-app';
import { RunningFixture, dbQueries, startFixture } from './support/fixture-api';
import { rawRequest } from './support/http-client';

describe.each(ADAPTERS)('HTTP caching on %s', (adapter) => {
  let fixture: RunningFixture;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${fixture.url}${path}`, { headers });

  beforeEach(async () => {
    fixture = await startFixture(adapter);
  });
  afterEach(async () => {
    await fixture.close();
  });

  it('answers a miss, then a hit with the same bytes and every contract header', async () => {
    const miss = await get('/api/users/1');
    const missBody = await miss.text();
    expect(miss.status).toBe(200);
    expect(miss.headers.get('x-cache')).toBe('MISS');
    expect(miss.headers.get('cache-status')).toBe('ResponseCache; fwd=uri-miss; stored');
    expect(miss.headers.get('etag')).toMatch(/^W\/"[0-9a-f]+-[A-Za-z0-9_-]{27}"$/);
    expect(miss.headers.get('last-modified')).toBe(new Date(fixture.clock.now()).toUTCString());
    expect(miss.headers.get('cache-control')).toBe('no-cache, max-age=0');
    expect(miss.headers.get('content-type')).toMatch(/^application\/json/);
    expect(miss.headers.get('age')).toBeNull();

    fixture.clock.advance(7_000);
    const hit = await get('/api/users/1');
    expect(hit.status).toBe(200);
    expect(await hit.text()).toBe(missBody);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.headers.get('cache-status')).toBe('ResponseCache; hit; ttl=293');
    expect(hit.headers.get('age')).toBe('7');
    expect(hit.headers.get('etag')).toBe(miss.headers.get('etag'));
    expect(hit.headers.get('last-modified')).toBe(miss.headers.get('last-modified'));
    expect(hit.headers.get('cache-control')).toBe('no-cache, max-age=0');
    expect(hit.headers.get('content-type')).toBe(miss.headers.get('content-type'));
    expect(hit.headers.get('content-length')).toBe(String(Buffer.byteLength(missBody)));
    expect(JSON.parse(missBody)).toEqual({ user: { id: 1, name: 'Ada Lovelace', email: 'ada@example.com' } });
  });

  it('expires entries after the TTL (CACHE_TTL_SECONDS, default 300) on the clock', async () => {
    await get('/api/users');
    fixture.clock.advance(299_000);
    expect((await get('/api/users')).headers.get('x-cache')).toBe('HIT');
    fixture.clock.advance(1_000);
    expect((await get('/api/users')).headers.get('x-cache')).toBe('MISS');
  });

  it('never puts the key in Cache-Status', async () => {
    await get('/api/posts?page=1');
    const hit = await get('/api/posts?page=1');
    expect(hit.headers.get('cache-status')).not.toMatch(/api|posts|page/);
  });

  it('a client Cache-Control: no-cache does not switch the server cache off', async () => {
    await get('/api/users');
    const reload = await get('/api/users', { 'cache-control': 'no-cache', pragma: 'no-cache' });
    expect(reload.headers.get('x-cache')).toBe('HIT');
  });

  describe('conditional requests (RFC 9110 §13)', () => {
    it('answers 304 with validators and no body, on a miss and on a hit', async () => {
      const first = await get('/api/users/2');
      const etag = first.headers.get('etag')!;
      await first.text();
      const onHit = await get('/api/users/2', { 'if-none-match': etag });
      expect(onHit.status).toBe(304);
      expect(onHit.headers.get('x-cache')).toBe('HIT');
      expect(onHit.headers.get('etag')).toBe(etag);
      expect(onHit.headers.get('cache-control')).toBe('no-cache, max-age=0');
      expect(onHit.headers.get('last-modified')).toBeTruthy();
      expect(onHit.headers.get('content-type')).toBeNull();
      expect(onHit.headers.get('content-length')).toBeNull();
      expect(await onHit.text()).toBe('');

      await fetch(`${fixture.url}/api/users/3`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '{"name":"Grace B. Hopper"}',
      });
      const grace = await get('/api/users/3');
      const graceEtag = grace.headers.get('etag')!;
      await fixture.close();
      fixture = await startFixture(adapter);
      await fetch(`${fixture.url}/api/users/3`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '{"name":"Grace B. Hopper"}',
      });
      const onMiss = await get('/api/users/3', { 'if-none-match': graceEtag });
      expect(onMiss.headers.get('x-cache')).toBe('MISS');
      expect(onMiss.status).toBe(304);
      expect(await onMiss.text()).toBe('');
    });

    it('compares weakly, accepts lists and *, and answers 200 when nothing matches', async () => {
      const etag = (await get('/api/users/1')).headers.get('etag')!;
      const strongForm = etag.slice(2);
      expect((await get('/api/users/1', { 'if-none-match': strongForm })).status).toBe(304);
      expect((await get('/api/users/1', { 'if-none-match': `"nope", ${etag}` })).status).toBe(304);
      expect((await get('/api/users/1', { 'if-none-match': '*' })).status).toBe(304);
      const other = await get('/api/users/1', { 'if-none-match': '"nope"' });
      expect(other.status).toBe(200);
      expect(await other.json()).toHaveProperty('user');
    });

    it('uses If-Modified-Since only without If-None-Match', async () => {
      const lastModified = (await get('/api/users/1')).headers.get('last-modified')!;
      expect((await get('/api/users/1', { 'if-modified-since': lastModified })).status).toBe(304);
      const earlier = new Date(Date.parse(lastModified) - 1000).toUTCString();
      expect((await get('/api/users/1', { 'if-modified-since': earlier })).status).toBe(200);
      expect((await get('/api/users/1', { 'if-none-match': '"nope"', 'if-modified-since': lastModified })).status).toBe(200);
    });

    it('a real caching HTTP client (undici cache interceptor) revalidates and receives 304s', async () => {
      const agent = new Agent().compose(interceptors.cache({ methods: ['GET'] }));
      const read = async () => {
        const res = await request(`${fixture.url}/api/users/1`, { dispatcher: agent });
        expect(res.statusCode).toBe(200);
        return res.body.json();
      };
      try {
        const first = await read();
        const second = await read(); // revalidated with If-None-Match: the server answers 304
        expect(second).toEqual(first);
        expect(fixture.statuses).toEqual([200, 304]);

        // After a write, the revalidation brings the new representation.
        await fetch(`${fixture.url}/api/users/1`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: '{"name":"Ada King"}',
        });
        expect(await read()).toMatchObject({ user: { name: 'Ada King' } });
        expect(fixture.statuses.slice(2)).toEqual([200, 200]);
      } finally {
        await agent.close();
      }
    });
  });

  it('answers HEAD from the GET entry, without a body', async () => {
    const got = await get('/api/posts/1');
    const body = await got.text();
    const head = await fetch(`${fixture.url}/api/posts/1`, { method: 'HEAD' });
    expect(head.headers.get('x-cache')).toBe('HIT');
    expect(head.headers.get('etag')).toBe(got.headers.get('etag'));
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(await head.text()).toBe('');
  });

  it('normalizes query order: the same parameters share an entry', async () => {
    expect((await get('/api/posts?page=2&limit=5')).headers.get('x-cache')).toBe('MISS');
    expect((await get('/api/posts?limit=5&page=2')).headers.get('x-cache')).toBe('HIT');
    expect((await get('/api/posts?limit=5&page=2&nocache=false')).headers.get('x-cache')).toBe('HIT');
    expect((await get('/api/posts?limit=5&page=3')).headers.get('x-cache')).toBe('MISS');
  });

  it('sends public Cache-Control with a long max-age on /api/version', async () => {
    const res = await get('/api/version');
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(await res.json()).toEqual({ name: 'response-cache-demo', version: '0.1.0' });
  });

  describe('refuses by default, each refusal a BYPASS with its reason', () => {
    const bypassOf = (res: { headers: Headers }) => [res.headers.get('x-cache'), res.headers.get('cache-status')];

    it('?nocache=true', async () => {
      await get('/api/users');
      const res = await get('/api/users?nocache=true');
      expect(bypassOf(res)).toEqual(['BYPASS', 'ResponseCache; fwd=bypass; detail=nocache-param']);
      expect(res.headers.get('etag')).toBeTruthy();
    });

    it('Authorization or Cookie on a public route', async () => {
      expect(bypassOf(await get('/api/users', { authorization: 'Bearer alice' }))[1]).toMatch(/detail=authorization$/);
      expect(bypassOf(await get('/api/users', { cookie: 'sid=1' }))[1]).toMatch(/detail=cookie$/);
      expect((await get('/api/users')).headers.get('x-cache')).toBe('MISS');
    });

    it('a GET with a body', async () => {
      const res = await rawRequest(fixture.url, { path: '/api/users', headers: { 'content-type': 'text/plain' }, body: 'hello' });
      expect(res.headers['x-cache']).toBe('BYPASS');
      expect(res.headers['cache-status']).toMatch(/detail=request-body$/);
    });

    it('a key part with control characters', async () => {
      const res = await get('/api/posts?page=1&x=%0D%0A');
      expect(bypassOf(res)).toEqual(['BYPASS', 'ResponseCache; fwd=bypass; detail=invalid-key']);
      expect(res.status).toBe(200);
    });

    it('a status other than 200 is not stored', async () => {
      const before = dbQueries(fixture);
      const first = await get('/api/users/999');
      const second = await get('/api/users/999');
      expect(first.status).toBe(404);
      expect(await second.json()).toMatchObject({ statusCode: 404 });
      expect(dbQueries(fixture)).toBe(before + 2);
    });
  });

  it('runs the handler once for concurrent misses of one key', async () => {
    fixture.data.settings.latencyMs = 50;
    const before = dbQueries(fixture);
    const responses = await Promise.all(Array.from({ length: 20 }, () => get('/api/posts?page=4')));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(dbQueries(fixture)).toBe(before + 1);
    expect(responses.filter((r) => r.headers.get('cache-status')?.endsWith('collapsed'))).toHaveLength(19);
  });
});
