import { createServer, Server } from 'node:net';
import { ManualClock } from 'nestjs-response-cache/testing';
import { ADAPTERS, RunningDemo, startDemo } from '../support/demo-app';
import { RedisProcess, freePort } from '../support/redis-harness';
import { uniquePrefix } from '../support/redis-stores';

interface Outcome {
  status: number;
  xCache: string | null;
}

/** Liveness bound: a request that takes this long has hung (speed itself is measured in the bench). */
const HANG_MS = 3000;

async function request(demo: RunningDemo, path = '/api/users/1'): Promise<Outcome> {
  const res = await fetch(`${demo.url}${path}`, { signal: AbortSignal.timeout(HANG_MS) });
  await res.arrayBuffer();
  return { status: res.status, xCache: res.headers.get('x-cache') };
}

/** Sends `count` requests one after another, calling `at[i]` before request i. */
async function stream(demo: RunningDemo, count: number, at: Record<number, () => unknown>): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let i = 0; i < count; i++) {
    await at[i]?.();
    outcomes.push(await request(demo));
  }
  return outcomes;
}

/** Polls until the cache serves hits again (the client reconnects and the breaker closes by itself). */
async function recovers(demo: RunningDemo): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if ((await request(demo)).xCache === 'HIT') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the cache did not come back within 15 s of Redis coming back');
}

describe.each(ADAPTERS)('a failing Redis never hurts the app (%s)', (adapter) => {
  let redis: RedisProcess;
  let demo: RunningDemo;

  beforeEach(async () => {
    redis = await RedisProcess.start();
    demo = await startDemo(
      adapter,
      { CACHE_STORE: 'redis', REDIS_URL: redis.url, CACHE_KEY_PREFIX: uniquePrefix(), CACHE_OP_TIMEOUT_MS: '100' },
      { resilience: { opTimeoutMs: 100, failureThreshold: 3, cooldownMs: 200 } },
      new ManualClock(Date.now()),
    );
    // Warm: the second request is a hit once the client is connected.
    await recovers(demo);
  });
  afterEach(async () => {
    await demo.close();
    await redis.stop();
  });

  it('Redis killed and restarted during a stream of requests', async () => {
    const outcomes = await stream(demo, 40, { 10: () => redis.kill(), 25: () => redis.launch() });
    expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
    expect(outcomes.slice(0, 10).every((o) => o.xCache === 'HIT')).toBe(true);
    expect(outcomes.slice(11, 25).every((o) => o.xCache === 'BYPASS' || o.xCache === 'MISS')).toBe(true);
    await recovers(demo);
  });

  it('Redis hung (SIGSTOP) and resumed during a stream of requests', async () => {
    const outcomes = await stream(demo, 30, { 5: () => redis.pause(), 20: () => redis.resume() });
    expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
    expect(outcomes.slice(6, 20).every((o) => o.xCache !== 'HIT')).toBe(true);
    await recovers(demo);
  });

  it('a write acknowledged while Redis hangs is never followed by the old data once Redis is back', async () => {
    expect((await request(demo)).xCache).toBe('HIT');
    redis.pause();
    // Reads time out until the circuit opens; from then on nothing is sent to Redis, so the
    // write's invalidation below never reaches it unless it is kept and replayed.
    for (let i = 0; i < 4; i++) await request(demo);
    const write = await fetch(`${demo.url}/api/users/1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"Written during the outage"}',
      signal: AbortSignal.timeout(HANG_MS),
    });
    expect(write.status).toBe(200);
    redis.resume();
    const names: string[] = [];
    const deadline = Date.now() + 15_000;
    let xCache: string | null = null;
    while (xCache !== 'HIT' && Date.now() < deadline) {
      const res = await fetch(`${demo.url}/api/users/1`, { signal: AbortSignal.timeout(HANG_MS) });
      xCache = res.headers.get('x-cache');
      names.push(((await res.json()) as { user: { name: string } }).user.name);
    }
    expect(xCache).toBe('HIT');
    expect(names.every((n) => n === 'Written during the outage')).toBe(true);
  });

  it('shuts down while Redis hangs', async () => {
    redis.pause();
    const closed = demo.close().then(() => 'closed');
    const hung = new Promise((resolve) => setTimeout(() => resolve('hung'), HANG_MS));
    expect(await Promise.race([closed, hung])).toBe('closed');
    redis.resume();
    demo = await startDemo(adapter, { CACHE_STORE: 'memory' }); // for afterEach
  });

  it('reports the store degraded, not the app unready, while Redis is down', async () => {
    await redis.kill();
    for (let i = 0; i < 5; i++) await request(demo); // opens the circuit
    const ready = await fetch(`${demo.url}/health/ready`, { signal: AbortSignal.timeout(HANG_MS) });
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; details: { cache: { status: string; store: string } } };
    expect(body.details.cache).toMatchObject({ status: 'degraded', store: 'redis' });
    const metrics = await (await fetch(`${demo.url}/metrics`)).text();
    expect(metrics).toMatch(/^cache_store_errors_total\{store="redis",operation="[a-z]+"\} \d+$/m);
  });
});

describe('Redis that is down at startup or answers garbage', () => {
  let garbage: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (garbage ? garbage.close(resolve) : resolve(undefined)));
    garbage = undefined;
  });

  it('starts and serves without the cache when nothing listens on REDIS_URL', async () => {
    const port = await freePort();
    const demo = await startDemo('fastify', { CACHE_STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${port}` });
    try {
      const outcomes = [await request(demo), await request(demo), await request(demo, '/api/posts?page=1')];
      expect(outcomes.map((o) => o.status)).toEqual([200, 200, 200]);
      expect(outcomes.every((o) => o.xCache === 'BYPASS')).toBe(true);
      const write = await fetch(`${demo.url}/api/users/1`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '{"name":"A"}',
      });
      expect(write.status).toBe(200);
    } finally {
      await demo.close();
    }
  });

  it('serves without the cache when the server answers garbage', async () => {
    garbage = createServer((socket) => {
      socket.on('data', () => socket.write('%%% this is not RESP %%%\r\n'));
      socket.on('error', () => undefined);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => garbage!.listen(port, '127.0.0.1', resolve));
    const demo = await startDemo('express', { CACHE_STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${port}` });
    try {
      const outcomes = await stream(demo, 10, {});
      expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
    } finally {
      await demo.close();
    }
  });
});
