import { RedisStampedeLock, createRedisClient, duplicateClient } from 'nestjs-response-cache/redis';
import { DemoProcess } from '../../check/consistency/demo-process';
import { rawRequest } from '../support/demo-app';
import { freshDatabaseUrl } from '../support/postgres';
import { RedisProcess } from '../support/redis-harness';
import { eventually, uniquePrefix, whenReady } from '../support/redis-stores';

describe('cross-instance stampede lease (a real Redis)', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await RedisProcess.start();
  });
  afterAll(async () => {
    await redis.stop();
  });

  async function lock(prefix: string, leaseMs = 5000) {
    const client = createRedisClient({ url: redis.url });
    await whenReady(client);
    const subscriber = duplicateClient(client);
    // These tests are about the lease, not the lock's bound on a slow Redis (100 ms by default, which
    // a loaded CI machine can exceed on a single command): a generous one, so that only the lease decides.
    const made = new RedisStampedeLock({ client, subscriber, prefix, leaseMs, timeoutMs: 5000 });
    await whenReady(subscriber);
    return { lock: made, client };
  }

  it('one holder at a time; waiters are woken when the holder releases', async () => {
    const prefix = uniquePrefix();
    const a = await lock(prefix);
    const b = await lock(prefix);
    try {
      const token = await a.lock.acquire('k');
      expect(token).toBeDefined();
      expect(await b.lock.acquire('k')).toBeUndefined();
      await new Promise((r) => setTimeout(r, 50)); // the subscription is in place
      const woken = b.lock.waitFor('k', 10_000);
      await a.lock.release('k', token!);
      expect(await woken).toBe(true);
      expect(await b.lock.acquire('k')).toBeDefined();
    } finally {
      await Promise.all([a.lock.close(), b.lock.close()]);
      a.client.disconnect();
      b.client.disconnect();
    }
  });

  it('a lease whose holder died expires, and a bounded wait returns on its own', async () => {
    const prefix = uniquePrefix();
    const a = await lock(prefix, 300);
    const b = await lock(prefix, 300);
    try {
      expect(await a.lock.acquire('k')).toBeDefined();
      a.client.disconnect(); // the holder crashes without releasing
      expect(await b.lock.waitFor('k', 50)).toBe(false);
      await eventually(async () => (await b.lock.acquire('k')) !== undefined, 'the lease to expire', 5000);
    } finally {
      await Promise.all([a.lock.close(), b.lock.close()]);
      b.client.disconnect();
    }
  });

  /** Two demo processes on one database with 200 ms of extra latency per statement, 20 concurrent cold requests on each. */
  async function coldStampede(lockOn: boolean): Promise<number> {
    const env = {
      CACHE_STORE: 'redis',
      REDIS_URL: redis.url,
      CACHE_KEY_PREFIX: uniquePrefix(),
      DEMO_DB_LATENCY_MS: '200',
      CACHE_STAMPEDE_LOCK: String(lockOn),
      // Longer than any fill here, however loaded the machine: a waiter that gives up runs its own
      // handler (the bounded wait working as documented), which this test must not count as a stampede.
      CACHE_STAMPEDE_WAIT_MS: '10000',
      DATABASE_URL: await freshDatabaseUrl(),
    };
    const a = await DemoProcess.start({ ...env, HTTP_ADAPTER: 'fastify' });
    const b = await DemoProcess.start({ ...env, HTTP_ADAPTER: 'express' }).catch(async (error: unknown) => {
      await a.stop();
      throw error;
    });
    const ready = async (demo: DemoProcess) => eventually(async () => (await fetch(`${demo.url}/health/ready`)).status === 200, 'ready');
    try {
      await Promise.all([ready(a), ready(b)]);
      await new Promise((r) => setTimeout(r, 100)); // the lock subscriptions are in place
      const before = (await a.statements()) + (await b.statements());
      // Behind a load balancer both instances see the same Host, which keys include.
      const responses = await Promise.all(
        [a, b].flatMap((demo) =>
          Array.from({ length: 20 }, () =>
            rawRequest(demo.url, { path: '/api/posts?page=3', headers: { host: 'api.example.com' } }).then((r) => r.status),
          ),
        ),
      );
      expect(responses.every((status) => status === 200)).toBe(true);
      return (await a.statements()) + (await b.statements()) - before;
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }

  it('a cold key hit by two instances at once runs the handler once with the lease, once per instance without', async () => {
    expect(await coldStampede(true)).toBe(1);
    expect(await coldStampede(false)).toBe(2);
  }, 60_000);
});
