import { runCli } from 'nestjs-response-cache/internal/cli/response-cache-cli';
import { Adapter, RunningDemo, startDemo } from './support/demo-app';
import { RedisProcess, freePort } from './support/redis-harness';
import { VarnishProcess, hungServer } from './support/varnish-harness';

/**
 * The edge, for real: Debian's Varnish on a free port in front of the demo, with the VCL shipped
 * in deploy/varnish/ (default.vcl with vmod xkey; ban.vcl for plain Varnish). The demo's own
 * count of the responses it wrote tells whether a request reached it.
 */

interface Seen {
  status: number;
  body: string;
  headers: Headers;
}

async function get(base: string, path: string, headers: Record<string, string> = {}): Promise<Seen> {
  const res = await fetch(`${base}${path}`, { headers });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

async function send(base: string, method: string, path: string, body: unknown): Promise<Seen & { ms: number }> {
  const started = performance.now();
  const res = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.text(), headers: res.headers, ms: performance.now() - started };
}

/** The demo behind a Varnish that the demo purges (CACHE_EDGE=varnish, VARNISH_URLS). */
async function demoBehindVarnish(
  vcl: string,
  adapter: Adapter,
  store: Record<string, string>,
): Promise<{ demo: RunningDemo; varnish: VarnishProcess }> {
  const port = await freePort();
  const demo = await startDemo(adapter, { CACHE_EDGE: 'varnish', VARNISH_URLS: `http://127.0.0.1:${port}`, ...store });
  const varnish = await VarnishProcess.start(Number(new URL(demo.url).port), vcl, port);
  return { demo, varnish };
}

describe.each([
  ['default.vcl', 'express', 'memory'],
  ['default.vcl', 'fastify', 'memory'],
  ['ban.vcl', 'express', 'memory'],
  ['default.vcl', 'fastify', 'redis'],
] as [string, Adapter, 'memory' | 'redis'][])('the demo behind Varnish (%s, %s, %s store)', (vcl, adapter, store) => {
  let demo: RunningDemo;
  let varnish: VarnishProcess;
  let redis: RedisProcess | undefined;
  /** Responses the demo wrote so far. */
  const reached = () => demo.statuses.length;

  beforeAll(async () => {
    redis = store === 'redis' ? await RedisProcess.start() : undefined;
    ({ demo, varnish } = await demoBehindVarnish(vcl, adapter, redis === undefined ? {} : { CACHE_STORE: 'redis', REDIS_URL: redis.url }));
  });
  afterAll(async () => {
    await varnish?.stop();
    await demo?.close();
    await redis?.stop();
  });

  it('serves a hit at the edge without reaching the demo, and never shows the surrogate headers to the client', async () => {
    const first = await get(varnish.url, '/api/version');
    expect(first.status).toBe(200);
    const before = reached();
    for (let i = 0; i < 10; i++) {
      const hit = await get(varnish.url, '/api/version');
      expect(hit.body).toBe(first.body);
      expect(hit.headers.get('cache-status')).toMatch(/varnish; hit$/);
      expect(hit.headers.get('xkey')).toBeNull();
      expect(hit.headers.get('cdn-cache-control')).toBeNull();
    }
    expect(reached()).toBe(before);
    // The app's own response carries them, for the edge.
    const direct = await get(demo.url, '/api/version');
    expect(direct.headers.get('xkey')).toMatch(/^version uri-[A-Za-z0-9_-]{22}$/);
    expect(direct.headers.get('cdn-cache-control')).toMatch(/^max-age=\d+$/);
  });

  it('purges exactly the entries with the write’s tags, at the edge and in the app, before the write answers', async () => {
    for (const path of ['/api/users/1', '/api/users/2', '/api/users', '/api/posts/1']) {
      expect((await get(varnish.url, path)).status).toBe(200);
      expect((await get(varnish.url, path)).headers.get('cache-status')).toMatch(/varnish; hit$/);
    }
    const name = `edge-${vcl}-${adapter}-${store}`;
    const write = await send(varnish.url, 'PUT', '/api/users/1', { name });
    expect(write.status).toBe(200);

    // users and user:1: every user entry went from both layers; the post stayed at the edge.
    let before = reached();
    const after = await get(varnish.url, '/api/users/1');
    expect(JSON.parse(after.body).user.name).toBe(name);
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(after.headers.get('cache-status')).not.toMatch(/varnish; hit$/);
    expect(reached()).toBe(before + 1);
    for (const path of ['/api/users/2', '/api/users']) {
      before = reached();
      const refetched = await get(varnish.url, path);
      expect(refetched.headers.get('cache-status')).not.toMatch(/varnish; hit$/);
      expect(reached()).toBe(before + 1);
    }
    before = reached();
    expect((await get(varnish.url, '/api/posts/1')).headers.get('cache-status')).toMatch(/varnish; hit$/);
    expect(reached()).toBe(before);
    // And the edge keeps the new data again.
    expect((await get(varnish.url, '/api/users/1')).headers.get('cache-status')).toMatch(/varnish; hit$/);
  });

  it('never stores a per-user response (nor a 401) at the edge', async () => {
    for (const auth of [{ authorization: 'Bearer alice' }, {}] as Record<string, string>[]) {
      const before = reached();
      const first = await get(varnish.url, '/api/jobs', auth);
      const second = await get(varnish.url, '/api/jobs', auth);
      expect(second.status).toBe(first.status);
      expect(second.headers.get('cache-status')).not.toMatch(/varnish; hit/);
      expect(reached()).toBe(before + 2);
    }
    const direct = await get(demo.url, '/api/jobs', { authorization: 'Bearer alice' });
    expect(direct.headers.get('xkey')).toBeNull();
    expect(direct.headers.get('cdn-cache-control')).toBe('no-store, max-age=0');
    expect(direct.headers.get('cache-control')).toMatch(/private/);
  });
});

describe('soft purge (xkey.softpurge)', () => {
  it('marks the entries stale at the edge: without a grace the next read fetches the new data', async () => {
    const port = await freePort();
    const demo = await startDemo('express', {
      CACHE_EDGE: 'varnish',
      VARNISH_URLS: `http://127.0.0.1:${port}`,
      CACHE_EDGE_SOFT_PURGE: 'true',
    });
    const varnish = await VarnishProcess.start(Number(new URL(demo.url).port), 'default.vcl', port);
    try {
      await get(varnish.url, '/api/users/2');
      expect((await get(varnish.url, '/api/users/2')).headers.get('cache-status')).toMatch(/varnish; hit$/);
      expect((await send(varnish.url, 'PUT', '/api/users/2', { name: 'soft' })).status).toBe(200);
      const after = await get(varnish.url, '/api/users/2');
      expect(JSON.parse(after.body).user.name).toBe('soft');
      expect(after.headers.get('cache-status')).not.toMatch(/varnish; hit$/);
    } finally {
      await varnish.stop();
      await demo.close();
    }
  });
});

describe('a Varnish that is down or hung', () => {
  it.each(['down', 'hung'])(
    'costs a write at most the purge timeout when Varnish is %s, and the purge waits in the admin API',
    async (state) => {
      const hung = state === 'hung' ? await hungServer() : undefined;
      const url = hung?.url ?? `http://127.0.0.1:${await freePort()}`;
      const demo = await startDemo('express', {
        CACHE_EDGE: 'varnish',
        VARNISH_URLS: url,
        CACHE_EDGE_PURGE_TIMEOUT_MS: '300',
        CACHE_ADMIN_TOKEN: 'edge-test',
      });
      try {
        const write = await send(demo.url, 'PUT', '/api/users/1', { name: `while ${state}` });
        expect(write.status).toBe(200);
        expect(write.ms).toBeLessThan(300 + 700);
        const edge = await fetch(`${demo.url}/admin/cache/edge`, { headers: { authorization: 'Bearer edge-test' } });
        const status = (await edge.json()) as { pending: number; pendingKeys: { key: string }[]; purges: Record<string, number> };
        expect(status.pending).toBeGreaterThanOrEqual(2);
        expect(status.pendingKeys.map((k) => k.key)).toEqual(expect.arrayContaining(['users', 'user:1']));
        expect(status.purges[state === 'hung' ? 'timeout' : 'error']).toBeGreaterThanOrEqual(1);
        // The CLI shows them, and says so in its exit status.
        let out = '';
        const code = await runCli(
          ['edge', '--url', demo.url, '--token', 'edge-test'],
          {},
          { stdout: (t) => (out += t), stderr: (t) => (out += t) },
        );
        expect(code).toBe(1);
        expect(out).toMatch(/pending +\d+ key\(s\) waiting for a retry/);
        expect(out).toMatch(/^user:1 +\d+/m);
        const metrics = await (await fetch(`${demo.url}/metrics`)).text();
        expect(metrics).toMatch(
          new RegExp(`cache_edge_purges_total\\{edge="varnish",result="${state === 'hung' ? 'timeout' : 'error'}"\\} [1-9]`),
        );
      } finally {
        await demo.close();
        await hung?.close();
      }
    },
  );

  it('retries a failed purge until Varnish is back', async () => {
    const port = await freePort();
    const demo = await startDemo('express', {
      CACHE_EDGE: 'varnish',
      VARNISH_URLS: `http://127.0.0.1:${port}`,
      CACHE_ADMIN_TOKEN: 'edge-test',
    });
    let varnish: VarnishProcess | undefined;
    try {
      expect((await send(demo.url, 'PUT', '/api/users/1', { name: 'while down' })).status).toBe(200);
      varnish = await VarnishProcess.start(Number(new URL(demo.url).port), 'default.vcl', port);
      const deadline = Date.now() + 10_000;
      let pending = -1;
      while (Date.now() < deadline) {
        const res = await fetch(`${demo.url}/admin/cache/edge`, { headers: { authorization: 'Bearer edge-test' } });
        pending = ((await res.json()) as { pending: number }).pending;
        if (pending === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(pending).toBe(0);
    } finally {
      await varnish?.stop();
      await demo.close();
    }
  });
});
