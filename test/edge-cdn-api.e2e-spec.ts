import { createServer, IncomingMessage, Server } from 'node:http';
import { cloudflareEdge, fastlyEdge } from 'nestjs-response-cache';
import { EdgePurger } from '../libs/response-cache/src/edge/edge-purger';
import { resolveEdge } from '../libs/response-cache/src/options/edge-options';
import { RunningFixture, startFixture } from './support/fixture-api';

/**
 * The Fastly and Cloudflare adapters against local servers that check every request against the
 * documented purge APIs (method, path, auth, content type, body, keys per request, rate limit).
 * Not run against the real services.
 */

interface Received {
  at: number;
  keys: string[];
  soft: boolean;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => resolve(body));
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** Fastly's batch purge: POST /service/{id}/purge, Fastly-Key, JSON {"surrogate_keys": [...]} of at most 256 keys. */
function fastlyApi(serviceId: string, apiKey: string) {
  const received: Received[] = [];
  const problems: string[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      const refuse = (status: number, msg: string) => {
        problems.push(msg);
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ msg }));
      };
      if (req.method !== 'POST' || req.url !== `/service/${serviceId}/purge`) return refuse(404, `${req.method} ${req.url}`);
      if (req.headers['fastly-key'] !== apiKey) return refuse(401, 'Fastly-Key');
      if (req.headers['content-type'] !== 'application/json') return refuse(415, 'content-type');
      if (req.headers['accept'] !== 'application/json') return refuse(406, 'accept');
      const soft = req.headers['fastly-soft-purge'];
      if (soft !== undefined && soft !== '1') return refuse(400, 'Fastly-Soft-Purge');
      let body: { surrogate_keys?: unknown };
      try {
        body = JSON.parse(raw) as { surrogate_keys?: unknown };
      } catch {
        return refuse(400, 'body');
      }
      const keys = body.surrogate_keys;
      if (!Array.isArray(keys) || keys.length === 0 || keys.length > 256 || keys.some((k) => typeof k !== 'string' || /\s/.test(k)))
        return refuse(400, `surrogate_keys (${Array.isArray(keys) ? keys.length : typeof keys})`);
      received.push({ at: Date.now(), keys: keys as string[], soft: soft === '1' });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(Object.fromEntries((keys as string[]).map((k, i) => [k, `purge-${i}`]))));
    });
  });
  return { server, received, problems };
}

/** Cloudflare's purge_cache by tags, Bearer token, at most `perRequest` tags, a token bucket of `burst` refilled at `perSecond`. */
function cloudflareApi(zoneId: string, token: string, perRequest: number, perSecond: number, burst: number) {
  const received: Received[] = [];
  const problems: string[] = [];
  let tokens = burst;
  let updated = Date.now();
  let limited = 0;
  const server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      const answer = (status: number, body: object, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      const refuse = (status: number, msg: string) => {
        problems.push(msg);
        answer(status, { success: false, errors: [{ code: 1000, message: msg }], messages: [], result: null });
      };
      if (req.method !== 'POST' || req.url !== `/client/v4/zones/${zoneId}/purge_cache`) return refuse(404, `${req.method} ${req.url}`);
      if (req.headers.authorization !== `Bearer ${token}`) return refuse(403, 'authorization');
      if (req.headers['content-type'] !== 'application/json') return refuse(415, 'content-type');
      const now = Date.now();
      tokens = Math.min(burst, tokens + ((now - updated) / 1000) * perSecond);
      updated = now;
      if (tokens < 1) {
        limited++;
        return answer(
          429,
          { success: false, errors: [{ code: 10000, message: 'rate limited' }], messages: [], result: null },
          { 'retry-after': '1' },
        );
      }
      tokens -= 1;
      let body: { tags?: unknown };
      try {
        body = JSON.parse(raw) as { tags?: unknown };
      } catch {
        return refuse(400, 'body');
      }
      const tags = body.tags;
      if (
        !Array.isArray(tags) ||
        tags.length === 0 ||
        tags.length > perRequest ||
        tags.some((t) => typeof t !== 'string' || t.includes(','))
      )
        return refuse(400, `tags (${Array.isArray(tags) ? tags.length : typeof tags})`);
      received.push({ at: now, keys: tags as string[], soft: false });
      answer(200, { success: true, errors: [], messages: [], result: { id: zoneId } });
    });
  });
  return { server, received, problems, limitedCount: () => limited, drain: () => (tokens = 0) };
}

const keys = (n: number) => Array.from({ length: n }, (_, i) => `k:${i}`);

describe('Fastly purge API', () => {
  const api = fastlyApi('svc1', 'fastly-secret');
  let url: string;
  beforeAll(async () => (url = await listen(api.server)));
  afterAll(() => api.server.close());
  beforeEach(() => {
    api.received.length = 0;
    api.problems.length = 0;
  });

  it('purges by surrogate key in batches of 256, soft when asked', async () => {
    const purger = new EdgePurger(
      resolveEdge({ adapter: fastlyEdge({ serviceId: 'svc1', apiKey: 'fastly-secret', apiUrl: url }), softPurge: true, repurgeAfterMs: 0 }),
    );
    await purger.purge(keys(600));
    expect(api.problems).toEqual([]);
    // Batches are sent together and may arrive in any order: their sizes, sorted.
    expect(api.received.map((r) => r.keys.length).sort((a, b) => b - a)).toEqual([256, 256, 88]);
    expect(api.received.every((r) => r.soft)).toBe(true);
    expect(new Set(api.received.flatMap((r) => r.keys))).toEqual(new Set(keys(600)));
    expect(purger.status()).toMatchObject({ pending: 0, purges: { ok: 3, error: 0, timeout: 0 } });
  });

  it('a refused key is retried, never thrown', async () => {
    const purger = new EdgePurger(
      resolveEdge({ adapter: fastlyEdge({ serviceId: 'svc1', apiKey: 'wrong', apiUrl: url }), purgeTimeoutMs: 200, repurgeAfterMs: 0 }),
    );
    await expect(purger.purge(['users'])).resolves.toBeUndefined();
    expect(purger.status()).toMatchObject({ pending: 1, purges: { error: 1 } });
    expect(purger.status()?.lastError).toMatch(/401/);
    purger.stop();
  });

  describe('an app with the Fastly edge', () => {
    let fixture: RunningFixture;
    beforeAll(async () => {
      fixture = await startFixture('express', {
        edge: { adapter: fastlyEdge({ serviceId: 'svc1', apiKey: 'fastly-secret', apiUrl: url }), ttl: 3600 },
      });
    });
    afterAll(() => fixture.close());

    it('tags public responses with Surrogate-Key and Surrogate-Control, never per-user ones, and purges on write', async () => {
      const res = await fetch(`${fixture.url}/api/users/1`);
      await res.text();
      expect(res.headers.get('surrogate-key')).toMatch(/^users user:1 uri-[A-Za-z0-9_-]{22}$/);
      expect(res.headers.get('surrogate-control')).toBe('max-age=3600');
      const jobs = await fetch(`${fixture.url}/api/jobs`, { headers: { authorization: 'Bearer alice' } });
      await jobs.text();
      expect(jobs.headers.get('surrogate-key')).toBeNull();
      expect(jobs.headers.get('surrogate-control')).toBe('no-store, max-age=0');
      const write = await fetch(`${fixture.url}/api/users/1`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Grace' }),
      });
      expect(write.status).toBe(200);
      expect(api.problems).toEqual([]);
      expect(api.received).toHaveLength(1);
      expect(api.received[0].keys).toEqual(expect.arrayContaining(['users', 'user:1', res.headers.get('surrogate-key')!.split(' ')[2]]));
    });
  });
});

describe('Cloudflare purge API', () => {
  it('purges by tags in batches within the account’s rate limit', async () => {
    const api = cloudflareApi('zone1', 'cf-token', 30, 4, 2);
    const url = await listen(api.server);
    try {
      const adapter = cloudflareEdge({ zoneId: 'zone1', apiToken: 'cf-token', apiUrl: url, requestsPerSecond: 3, burst: 2 });
      const purger = new EdgePurger(resolveEdge({ adapter, purgeTimeoutMs: 5000, repurgeAfterMs: 0 }));
      const started = Date.now();
      await purger.purge(keys(100));
      expect(api.problems).toEqual([]);
      expect(api.limitedCount()).toBe(0); // the adapter kept to the bucket itself
      // Batches may arrive in any order (two are sent at once): their sizes, sorted.
      expect(api.received.map((r) => r.keys.length).sort((a, b) => b - a)).toEqual([30, 30, 30, 10]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(600); // 2 at once, then 3 a second
      expect(purger.status()).toMatchObject({ pending: 0, purges: { ok: 4 } });
    } finally {
      api.server.close();
    }
  });

  it('waits as a 429 says, then purges', async () => {
    const api = cloudflareApi('zone1', 'cf-token', 30, 2, 1);
    const url = await listen(api.server);
    try {
      api.drain(); // another process of the account used the bucket up
      const adapter = cloudflareEdge({ zoneId: 'zone1', apiToken: 'cf-token', apiUrl: url });
      const purger = new EdgePurger(resolveEdge({ adapter, purgeTimeoutMs: 300, repurgeAfterMs: 0 }));
      await purger.purge(['posts']);
      expect(api.limitedCount()).toBe(1);
      expect(purger.status()).toMatchObject({ pending: 1, purges: { error: 1 } });
      expect(await purger.settle(5000)).toBe(true);
      expect(api.received.map((r) => r.keys)).toEqual([['posts']]);
    } finally {
      api.server.close();
    }
  });

  it('tags responses with Cache-Tag (comma separated) and CDN-Cache-Control', async () => {
    const api = cloudflareApi('zone1', 'cf-token', 30, 10, 10);
    const url = await listen(api.server);
    const fixture = await startFixture('express', {
      edge: { adapter: cloudflareEdge({ zoneId: 'zone1', apiToken: 'cf-token', apiUrl: url }) },
    });
    try {
      const res = await fetch(`${fixture.url}/api/posts/1`);
      await res.text();
      expect(res.headers.get('cache-tag')).toMatch(/^posts,post:1,uri-[A-Za-z0-9_-]{22}$/);
      expect(res.headers.get('cdn-cache-control')).toMatch(/^max-age=\d+$/);
      const write = await fetch(`${fixture.url}/api/posts/1`, { method: 'DELETE' });
      expect(write.status).toBe(204);
      expect(api.problems).toEqual([]);
      expect(api.received[0].keys).toEqual(expect.arrayContaining(['posts', 'post:1']));
    } finally {
      await fixture.close();
      api.server.close();
    }
  });
});
