import { Logger } from '@nestjs/common';
import { MemoryCacheStore } from 'nestjs-response-cache';
import { ManualClock } from 'nestjs-response-cache/testing';
import { RedisCacheStore, RedisStampedeLock, createRedisClient, duplicateClient } from 'nestjs-response-cache/redis';
import { ADAPTERS, RunningDemo, rawRequest, startDemo, xCacheOf } from '../support/demo-app';
import { RedisClusterProcesses, RedisProcess } from '../support/redis-harness';
import { eventually, uniquePrefix } from '../support/redis-stores';

/** Findings of the hardening probe (issue #11), each against real redis-server processes or the memory store. */

async function put(demo: RunningDemo, path: string, body: unknown): Promise<number> {
  const res = await fetch(`${demo.url}${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

async function getJson(demo: RunningDemo, path: string): Promise<{ status: number; xCache: string | null; body: unknown }> {
  const res = await fetch(`${demo.url}${path}`);
  const text = await res.text();
  return { status: res.status, xCache: res.headers.get('x-cache'), body: res.status === 200 ? JSON.parse(text) : text };
}

async function hitOnce(demo: RunningDemo, path: string): Promise<void> {
  await eventually(async () => (await xCacheOf(demo, path)) === 'HIT', `a hit on ${path}`);
}

describe.each(ADAPTERS)('eviction and corruption in Redis read as misses, never as stale hits (%s)', (adapter) => {
  let redis: RedisProcess;
  let demo: RunningDemo;
  let prefix: string;

  beforeAll(async () => {
    redis = await RedisProcess.start();
  });
  afterAll(async () => {
    await redis.stop();
  });
  beforeEach(async () => {
    prefix = uniquePrefix();
    demo = await startDemo(
      adapter,
      { CACHE_STORE: 'redis', REDIS_URL: redis.url, CACHE_KEY_PREFIX: prefix },
      undefined,
      new ManualClock(Date.now()),
    );
  });
  afterEach(async () => {
    await demo.close();
  });

  const client = () => createRedisClient({ url: redis.url });

  it('an evicted tag version never makes the pre-write entry valid again (1)', async () => {
    const admin = client();
    try {
      await hitOnce(demo, '/api/users/1');
      expect(await put(demo, '/api/users/1', { name: 'After Write' })).toBe(200);
      // Evict every tag version, as allkeys-lru may: the old entry must not come back.
      for (const key of await admin.keys(`${prefix}t:*`)) await admin.del(key);
      const read = await getJson(demo, '/api/users/1');
      expect(read.xCache).toBe('MISS');
      expect(read.body).toMatchObject({ user: { id: 1, name: 'After Write' } });
    } finally {
      admin.disconnect();
    }
  });

  it('keys of written URLs that nothing reads are not written, and every version key expires (3)', async () => {
    const admin = client();
    try {
      await hitOnce(demo, '/api/users/2');
      for (let i = 0; i < 200; i++) expect(await put(demo, `/api/users/2?x=${i}`, { name: `n${i}` })).toBe(200);
      const versions = await admin.keys(`${prefix}t:*`);
      expect(versions.length).toBeLessThan(20); // not one per written URL
      for (const key of versions) expect(await admin.pttl(key)).toBeGreaterThan(0);
    } finally {
      admin.disconnect();
    }
  });

  it('a wrong-type value at an entry key is a miss that the next fill repairs, and never opens the breaker (4)', async () => {
    const admin = client();
    try {
      await hitOnce(demo, '/api/users/3');
      await hitOnce(demo, '/api/posts');
      const [entryKey] = await admin.keys(`${prefix}e:*/api/users/3*`);
      await admin.del(entryKey);
      await admin.rpush(entryKey, 'not', 'an', 'entry');
      const first = await getJson(demo, '/api/users/3');
      expect([first.status, first.xCache]).toEqual([200, 'MISS']);
      await hitOnce(demo, '/api/users/3');
      expect(await admin.type(entryKey)).toBe('string');
      for (let i = 0; i < 10; i++) expect((await getJson(demo, '/api/posts')).xCache).toBe('HIT');
    } finally {
      admin.disconnect();
    }
  });

  it('a non-integer tag version is reset with one log line, and hits go on (5)', async () => {
    const admin = client();
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await hitOnce(demo, '/api/users');
      await hitOnce(demo, '/api/posts');
      await admin.set(`${prefix}t:users`, 'garbage');
      const created = await fetch(`${demo.url}/api/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'New', email: 'new@example.com' }),
      });
      expect(created.status).toBe(201);
      expect(warn.mock.calls.filter((c) => String(c[0]).includes(`${prefix}t:users`))).toHaveLength(1);
      expect(await admin.get(`${prefix}t:users`)).toMatch(/^\d+$/);
      expect((await getJson(demo, '/api/posts')).xCache).toBe('HIT'); // this instance still serves hits
      const users = await getJson(demo, '/api/users');
      expect(users.xCache).toBe('MISS');
      expect(JSON.stringify(users.body)).toContain('new@example.com');
    } finally {
      warn.mockRestore();
      admin.disconnect();
    }
  });

  it('a truncated entry is a miss with the full body, never served (6)', async () => {
    const admin = client();
    try {
      await hitOnce(demo, '/api/posts/4');
      const [entryKey] = await admin.keys(`${prefix}e:*/api/posts/4*`);
      const bytes = await admin.getBuffer(entryKey);
      await admin.set(entryKey, bytes!.subarray(0, bytes!.length - 20), 'PX', 60_000);
      const read = await getJson(demo, '/api/posts/4');
      expect(read.xCache).toBe('MISS');
      expect(read.body).toMatchObject({ post: { id: 4 } });
      // Garbled in the middle, same length: the checksum catches it.
      await hitOnce(demo, '/api/posts/4');
      const good = (await admin.getBuffer(entryKey))!;
      good[good.length - 5] ^= 0xff;
      await admin.set(entryKey, good, 'PX', 60_000);
      expect((await getJson(demo, '/api/posts/4')).xCache).toBe('MISS');
    } finally {
      admin.disconnect();
    }
  });
});

describe('the eviction policy at startup', () => {
  it.each([
    ['noeviction', 1],
    ['allkeys-lru', 0],
  ])('maxmemory-policy %s: %d warning line(s)', async (policy, lines) => {
    const redis = await RedisProcess.start(['--maxmemory-policy', policy]);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const store = new RedisCacheStore({ client: createRedisClient({ url: redis.url }), ownsClient: true });
    try {
      await store.ready();
      await eventually(async () => (await store.client.ping()) === 'PONG', 'a ping');
      await new Promise((resolve) => setImmediate(resolve));
      await store.client.ping(); // the CONFIG GET sent on ready has been answered by now
      expect(warn.mock.calls.filter((c) => String(c[0]).includes('noeviction'))).toHaveLength(lines);
    } finally {
      warn.mockRestore();
      await store.close();
      await redis.stop();
    }
  });
});

describe('Redis with maxmemory and allkeys-lru: no stale read after an acknowledged write (1)', () => {
  let redis: RedisProcess;
  let demo: RunningDemo;

  beforeAll(async () => {
    redis = await RedisProcess.start(['--maxmemory', '2mb', '--maxmemory-policy', 'allkeys-lru']);
    demo = await startDemo('fastify', { CACHE_STORE: 'redis', REDIS_URL: redis.url, CACHE_KEY_PREFIX: uniquePrefix() });
  });
  afterAll(async () => {
    await demo.close();
    await redis.stop();
  });

  it('reads after writes see the write while Redis evicts under pressure', async () => {
    let stale = 0;
    let reads = 0;
    for (let i = 0; i < 150; i++) {
      // Pressure: distinct cached pages push Redis past maxmemory, so it evicts entries and versions alike.
      for (let j = 0; j < 8; j++) await getJson(demo, `/api/posts?page=1&limit=50&n=${i}-${j}`);
      const id = (i % 3) + 1;
      await getJson(demo, `/api/users/${id}`); // cached before the write
      expect(await put(demo, `/api/users/${id}`, { name: `Name ${i}` })).toBe(200);
      const read = await getJson(demo, `/api/users/${id}`);
      reads++;
      if ((read.body as { user: { name: string } }).user.name !== `Name ${i}`) stale++;
    }
    const info = await rawRequest(demo.url, { path: '/api/users/1' });
    expect(info.status).toBe(200);
    expect({ reads, stale }).toEqual({ reads: 150, stale: 0 });
  }, 60_000);
});

describe('the memory store: one write never empties the cache, and its versions are bounded (2)', () => {
  it('writes to many distinct URLs leave other routes cached; losing a version costs only its own entries', async () => {
    const store = new MemoryCacheStore({ maxTags: 100 });
    const demo = await startDemo('express', {}, { store });
    try {
      for (const path of ['/api/posts', '/api/posts/1', '/api/version']) await hitOnce(demo, path);
      for (let i = 0; i < 300; i++) expect(await put(demo, `/api/users/1?x=${i}`, { name: `n${i}` })).toBe(200);
      for (const path of ['/api/posts', '/api/posts/1', '/api/version']) expect(await xCacheOf(demo, path)).toBe('HIT');
      // 60 cached pages need more versions than the bound: the oldest pages lose theirs (misses), the newest stay.
      for (let i = 0; i < 60; i++) await hitOnce(demo, `/api/posts?page=${i + 1}`);
      expect(await xCacheOf(demo, '/api/posts?page=60')).toBe('HIT');
      expect(await xCacheOf(demo, '/api/posts?page=59')).toBe('HIT');
    } finally {
      await demo.close();
    }
  });
});

describe('the stampede lease on a real Redis Cluster (9)', () => {
  let cluster: RedisClusterProcesses;
  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start();
  }, 60_000);
  afterAll(async () => {
    await cluster.stop();
  });

  it('releases and wakes the waiters at once (no pipeline slot error, no waiting out the lease)', async () => {
    const client = createRedisClient({ clusterNodes: cluster.seeds });
    const store = new RedisCacheStore({ client, prefix: uniquePrefix() });
    await store.ready();
    const lock = new RedisStampedeLock({ client, subscriber: duplicateClient(client), prefix: uniquePrefix(), leaseMs: 10_000 });
    try {
      await eventually(async () => {
        const token = await lock.acquire('probe');
        if (token !== undefined) await lock.release('probe', token);
        return token !== undefined;
      }, 'the lease to answer');
      await new Promise((resolve) => setTimeout(resolve, 100)); // the subscription is up
      const token = await lock.acquire('cold');
      expect(token).toEqual(expect.any(String));
      expect(await lock.acquire('cold')).toBeUndefined(); // held
      const woken = lock.waitFor('cold', 8000);
      await lock.release('cold', token!);
      expect(await woken).toBe(true); // woken by the release, not by the 8 s timeout
      expect(await lock.acquire('cold')).toEqual(expect.any(String)); // released
    } finally {
      await lock.close();
      await store.close();
      client.disconnect();
    }
  }, 30_000);

  it('the app starts on a Cluster with the cache ready: the first request is a miss that stores, not a bypass (10)', async () => {
    const demo = await startDemo('express', {
      CACHE_STORE: 'redis',
      REDIS_CLUSTER_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(','),
      CACHE_KEY_PREFIX: uniquePrefix(),
    });
    try {
      const first = await fetch(`${demo.url}/api/users/1`);
      await first.arrayBuffer();
      expect(first.headers.get('x-cache')).toBe('MISS');
      expect(first.headers.get('cache-status')).toMatch(/stored/);
      await hitOnce(demo, '/api/users/1');
    } finally {
      await demo.close();
    }
  }, 30_000);
});
