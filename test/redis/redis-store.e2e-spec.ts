import { ManualClock } from 'nestjs-response-cache/testing';
import { keyFenceTag } from 'nestjs-response-cache/internal/store/cache-store';
import { historyKeyBeside } from 'nestjs-response-cache/internal/redis/failover-guard';
import { RedisCacheStore, createRedisClient } from 'nestjs-response-cache/redis';
import { quitClient } from 'nestjs-response-cache/internal/redis/redis-client';
import { RedisClusterProcesses, RedisProcess } from '../support/redis-harness';
import { command } from '../support/redis-failover';
import { RedisSentinelProcesses } from '../support/redis-sentinel';
import { eventually, redisStore, uniquePrefix, whenReady } from '../support/redis-stores';
import { runStoreContract } from 'nestjs-response-cache/testing';

describe('Redis (standalone, a real redis-server)', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await RedisProcess.start();
  });
  afterAll(async () => {
    await redis.stop();
  });

  runStoreContract('redis', async () => {
    const { store, clock } = await redisStore({ url: redis.url });
    return { store, clock, close: () => store.close() };
  });

  describe('RedisCacheStore specifics', () => {
    let store: RedisCacheStore;
    let clock: ManualClock;
    beforeEach(async () => {
      ({ store, clock } = await redisStore({ url: redis.url }, new ManualClock(), 'spec:'));
    });
    afterEach(async () => {
      await store.clear();
      await store.close();
    });

    const entryFor = async (key: string, body: string, tags: string[] = []) => {
      const fence = await store.snapshot([...tags, keyFenceTag(key)]);
      return {
        status: 200,
        headers: { 'content-type': 'text/plain' },
        body,
        etag: 'W/"1"',
        storedAt: clock.now(),
        expiresAt: clock.now() + 1000,
        fence,
      };
    };

    it('prefixes every key, and compresses large bodies', async () => {
      const big = 'x'.repeat(50_000);
      await store.set('big', await entryFor('big', big, ['t']), 60_000);
      const raw = await store.client.getBuffer('spec:e:big');
      expect(raw).not.toBeNull();
      expect(raw!.length).toBeLessThan(5_000);
      expect((await store.get('big'))?.body).toBe(big);
      // The fill's snapshot made the version: random (not 0 or 1), and alive at least as long as the entry.
      const version = Number(await store.client.get('spec:t:t'));
      expect(version).toBeGreaterThanOrEqual(2 ** 40);
      expect(await store.client.pttl('spec:t:t')).toBeGreaterThan(60_000);
      await store.invalidateTags(['t']);
      expect(Number(await store.client.get('spec:t:t'))).toBe(version + 1);
      // Invalidating a tag nothing depends on writes nothing (a write to a URL never read).
      await store.invalidateTags(['never-read']);
      expect(await store.client.exists('spec:t:never-read')).toBe(0);
    });

    it("stores an entry's gzip copy as it is and gives it back", async () => {
      const { gzipSync } = await import('node:zlib');
      const body = 'y'.repeat(5_000);
      const entry = { ...(await entryFor('z', body)), gzip: gzipSync(body) };
      await store.set('z', entry, 60_000);
      const back = await store.get('z');
      expect(back?.body).toBe(body);
      expect(back?.gzip?.equals(entry.gzip)).toBe(true);
    });

    it('treats an entry it cannot decode as a miss that the next fill replaces', async () => {
      await store.client.set('spec:e:bad', 'not an entry at all', 'PX', 60_000);
      expect(await store.get('bad')).toBeUndefined();
      await store.set('bad', await entryFor('bad', 'good'), 60_000);
      expect((await store.get('bad'))?.body).toBe('good');
    });

    it('uses native TTL', async () => {
      await store.set('k', await entryFor('k', 'v'), 60_000);
      const ttl = await store.client.pttl('spec:e:k');
      expect(ttl).toBeGreaterThan(55_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    });

    it('clears only its own prefix', async () => {
      await store.client.set('other:e:k', 'keep');
      await store.set('k', await entryFor('k', 'v'), 60_000);
      await store.clear();
      expect(await store.client.get('other:e:k')).toBe('keep');
      expect(await store.client.exists('spec:e:k')).toBe(0);
      await store.client.del('other:e:k');
    });

    it('validates an entry whose tags differ from the hint with a second read', async () => {
      await store.set('k', await entryFor('k', 'v', ['a']), 60_000);
      expect((await store.get('k', ['b', keyFenceTag('k')]))?.body).toBe('v');
      await store.invalidateTags(['a']);
      expect(await store.get('k', ['b', keyFenceTag('k')])).toBeUndefined();
    });
  });
});

describe('Redis Cluster (three real redis-server nodes)', () => {
  let cluster: RedisClusterProcesses;
  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start();
  }, 60_000);
  afterAll(async () => {
    await cluster.stop();
  });

  runStoreContract('redis cluster', async () => {
    const { store, clock } = await redisStore({ clusterNodes: cluster.seeds });
    return { store, clock, close: () => store.close() };
  });

  it('keeps entries and their tag versions on different slots working', async () => {
    const { store, clock } = await redisStore({ clusterNodes: cluster.seeds }, new ManualClock(), 'slots:');
    try {
      const keys = ['slots:e:GET /api/users/1', 'slots:t:users', 'slots:t:user:1', `slots:t:${keyFenceTag('GET /api/users/1')}`];
      const slots = new Set(await Promise.all(keys.map((k) => store.client.cluster('KEYSLOT', k))));
      expect(slots.size).toBeGreaterThan(1);
      const fence = await store.snapshot(['users', 'user:1', keyFenceTag('GET /api/users/1')]);
      const entry = { status: 200, headers: {}, body: 'ada', etag: 'W/"a"', storedAt: clock.now(), expiresAt: clock.now() + 1000, fence };
      expect(await store.set('GET /api/users/1', entry, 60_000)).toBe(true);
      expect((await store.get('GET /api/users/1', ['users', 'user:1', keyFenceTag('GET /api/users/1')]))?.body).toBe('ada');
      await store.invalidateTags(['user:1']);
      expect(await store.get('GET /api/users/1', ['users', 'user:1', keyFenceTag('GET /api/users/1')])).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe('Redis Sentinel (a master, a replica, three sentinels)', () => {
  let sentinel: RedisSentinelProcesses;
  beforeAll(async () => {
    sentinel = await RedisSentinelProcesses.start();
  }, 60_000);
  afterAll(async () => {
    await sentinel.stop();
  });

  runStoreContract('redis sentinel', async () => {
    const { store, clock } = await redisStore({ sentinels: sentinel.sentinels, sentinelName: sentinel.name });
    return { store, clock, close: () => store.close() };
  });

  it('waitForReplicas: an invalidation resolves once the replica holds it (and what that costs)', async () => {
    const client = createRedisClient({ sentinels: sentinel.sentinels, sentinelName: sentinel.name });
    await whenReady(client);
    const prefix = uniquePrefix();
    const plain = new RedisCacheStore({ client, prefix });
    const waiting = new RedisCacheStore({ client, prefix, waitForReplicas: 1, waitTimeoutMs: 500 });
    const { replica } = await sentinel.roles();
    try {
      await waiting.snapshot(['t']);
      const timed = async (store: RedisCacheStore) => {
        const began = performance.now();
        for (let i = 0; i < 300; i++) await store.invalidateTags(['t']);
        return (performance.now() - began) / 300;
      };
      const without = await timed(plain);
      const withWait = await timed(waiting);
      expect(await command(replica.port, 'GET', `${prefix}t:t`)).toBe(await client.get(`${prefix}t:t`));
      console.log(
        `invalidateTags on Sentinel: ${without.toFixed(3)} ms without WAIT, ${withWait.toFixed(3)} ms with WAIT 1 (one replica, same machine)`,
      );
    } finally {
      await quitClient(client);
    }
  });
});

describe('the failover guard (issue 24), on a real redis-server', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await RedisProcess.start();
  });
  afterAll(async () => {
    await redis.stop();
  });

  const entryOf = async (store: RedisCacheStore, clock: ManualClock, key: string) => ({
    status: 200,
    headers: {},
    body: key,
    etag: 'W/"1"',
    storedAt: clock.now(),
    expiresAt: clock.now() + 60_000,
    fence: await store.snapshot(['t', keyFenceTag(key)]),
  });

  it('the first instance to meet a history it has not seen starts a new epoch: entries stored before it are misses everywhere', async () => {
    const prefix = uniquePrefix();
    const { store, clock } = await redisStore({ url: redis.url }, new ManualClock(), prefix);
    try {
      await store.set('k', await entryOf(store, clock, 'k'), 60_000);
      expect((await store.get('k'))?.body).toBe('k');
      // What a promoted replica looks like to an instance that connects to it: the set of
      // histories seen does not hold the server's ids.
      await store.client.del(historyKeyBeside(`${prefix}t:\u0001generation`));
      const { store: other } = await redisStore({ url: redis.url }, new ManualClock(), prefix);
      expect(other.failoverEpochs).toBe(1);
      expect(await store.get('k')).toBeUndefined();
      expect(await other.get('k')).toBeUndefined();
      await other.close();
    } finally {
      await store.close();
    }
  });

  it('reads are misses from a reconnection until the server behind it is confirmed, and hits again after', async () => {
    const { store, clock } = await redisStore({ url: redis.url });
    try {
      await store.set('k', await entryOf(store, clock, 'k'), 60_000);
      expect((await store.get('k'))?.body).toBe('k');
      const epochs = store.failoverEpochs;
      await command(redis.port, 'CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await eventually(() => store.client.status !== 'ready', 'the disconnection', 2_000).catch(() => undefined);
      // While disconnected a read fails (unavailable), once connected but unconfirmed it is a miss.
      await eventually(async () => (await store.get('k').catch(() => undefined))?.body === 'k', 'a hit after the reconnection');
      // The same server, the same history: no new epoch, the entry is still valid.
      expect(store.failoverEpochs).toBe(epochs);
    } finally {
      await store.close();
    }
  });

  it('a restarted server (a new run id) starts a new epoch', async () => {
    const other = await RedisProcess.start(['--appendonly', 'yes', '--appendfsync', 'always']);
    const { store, clock } = await redisStore({ url: other.url });
    try {
      await store.set('k', await entryOf(store, clock, 'k'), 60_000);
      expect((await store.get('k'))?.body).toBe('k');
      const epochs = store.failoverEpochs;
      await command(other.port, 'SHUTDOWN').catch(() => undefined); // with the append-only file: the data comes back
      await other.kill();
      await other.launch();
      await eventually(() => store.failoverEpochs > epochs && store.client.status === 'ready', 'the new epoch after the restart');
      expect(await store.client.exists(`${(store as unknown as { prefix: string }).prefix}e:k`)).toBe(1); // the entry is back...
      expect(await store.get('k')).toBeUndefined(); // ...and a miss
    } finally {
      await store.close();
      await other.stop();
    }
  });
});
