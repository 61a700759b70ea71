import { CacheEntry } from 'nestjs-response-cache';
import { ManualClock } from 'nestjs-response-cache/testing';
import { keyFenceTag } from 'nestjs-response-cache/internal/store/cache-store';
import { TieredCacheStore } from 'nestjs-response-cache/redis';
import { RedisProcess } from '../support/redis-harness';
import { eventually, tieredStore, uniquePrefix } from '../support/redis-stores';
import { runStoreContract } from 'nestjs-response-cache/testing';

describe('TieredCacheStore (memory L1, real Redis L2, pub/sub bus)', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await RedisProcess.start();
  });
  afterAll(async () => {
    await redis.stop();
  });

  runStoreContract('tiered', async () => {
    const { store, clock } = await tieredStore(redis.url, uniquePrefix());
    return { store, clock, close: () => store.close() };
  });

  describe('two instances on one Redis', () => {
    let a: TieredCacheStore;
    let b: TieredCacheStore;
    let clock: ManualClock;
    const KEY = 'GET /api/users/1';
    const TAGS = ['users', 'user:1', keyFenceTag(KEY)];

    beforeEach(async () => {
      const prefix = uniquePrefix();
      clock = new ManualClock();
      a = (await tieredStore(redis.url, prefix, clock)).store;
      b = (await tieredStore(redis.url, prefix, clock)).store;
    });
    afterEach(async () => {
      await Promise.all([a.close(), b.close()]);
    });

    async function fill(store: TieredCacheStore, body: string): Promise<boolean> {
      const fence = await store.snapshot(TAGS);
      const entry: CacheEntry = {
        status: 200,
        headers: {},
        body,
        etag: `W/"${body}"`,
        storedAt: clock.now(),
        expiresAt: clock.now() + 60_000,
        fence,
      };
      return store.set(KEY, entry, 60_000);
    }

    it('copies L2 hits into L1, and an invalidation on one instance reaches the other L1', async () => {
      expect(await fill(a, 'v1')).toBe(true);
      expect((await b.get(KEY, TAGS))?.body).toBe('v1'); // from L2, copied into B's L1
      expect((await b.l1.get(KEY))?.body).toBe('v1');
      await a.invalidateTags(['user:1']);
      await eventually(async () => (await b.l1.get(KEY)) === undefined, "B's L1 to drop the entry");
      expect(await b.get(KEY, TAGS)).toBeUndefined();
      expect(await a.get(KEY, TAGS)).toBeUndefined();
    });

    it('delete and clear travel too', async () => {
      await fill(a, 'v1');
      await b.get(KEY, TAGS);
      await a.delete(KEY);
      await eventually(async () => (await b.l1.get(KEY)) === undefined, 'the key delete');
      await fill(a, 'v2');
      await b.get(KEY, TAGS);
      expect((await b.l1.get(KEY))?.body).toBe('v2');
      await a.clear();
      await eventually(async () => (await b.l1.get(KEY)) === undefined, 'the clear');
    });

    it("resubscribes by itself: ioredis's own resubscription, whose promise nobody handles, is off", () => {
      const subscriber = (b as unknown as { subscriber: { options: { autoResubscribe: boolean } } }).subscriber;
      expect(subscriber.options.autoResubscribe).toBe(false);
    });

    it('distrusts L1 while its subscription is down, and flushes it when the subscription is back', async () => {
      await fill(a, 'v1');
      await b.get(KEY, TAGS);
      expect((await b.l1.get(KEY))?.body).toBe('v1');
      await redis.kill(); // every connection drops; B's subscriber with them
      await eventually(() => !b.trusted, 'B to notice its subscription is down');
      await redis.launch();
      // The Redis restarted empty; what matters is that B does not answer from its old L1.
      await eventually(() => b.trusted, 'B to resubscribe');
      expect(await b.l1.get(KEY)).toBeUndefined();
    });

    it('an invalidation published while the other instance was unsubscribed is not served stale from its L1', async () => {
      await fill(a, 'v1');
      await b.get(KEY, TAGS);
      // Drop only B's pub/sub connection: the message below is lost to B.
      await a.l2.client.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await eventually(() => !b.trusted, 'B to notice');
      await a.invalidateTags(['user:1']);
      expect(await b.get(KEY, TAGS)).toBeUndefined(); // L1 is not trusted: L2 says invalidated
      await eventually(() => b.trusted, 'B to resubscribe');
      expect(await b.l1.get(KEY)).toBeUndefined(); // flushed on resubscribe
    });

    it('a hung Redis (SIGSTOP) keeps the connections open: B stops answering from L1 within the bus timeout, and flushes it before trusting it again', async () => {
      await fill(a, 'v1');
      await b.get(KEY, TAGS);
      expect(b.peek(KEY)?.body).toBe('v1');
      redis.pause();
      try {
        // The default busTimeoutMs is 50; the wait is bounded, not timed: speed is the benchmark's.
        await eventually(() => !b.trusted, 'B to notice that its bus stalled', 2_000);
        expect(b.peek(KEY)).toBeUndefined();
      } finally {
        redis.resume();
      }
      await eventually(() => b.trusted, 'B to trust L1 again once a PING is answered');
      expect(await b.l1.get(KEY)).toBeUndefined(); // what was published during the stall may not have arrived
    });

    it('the fill fence holds across instances: a slow fill on A overtaken by an invalidation on B stores nothing anywhere', async () => {
      const fence = await a.snapshot(TAGS); // A's handler starts
      await b.invalidateTags(['users']); // B acknowledges a write
      const late: CacheEntry = {
        status: 200,
        headers: {},
        body: 'old',
        etag: 'W/"old"',
        storedAt: clock.now(),
        expiresAt: clock.now() + 60_000,
        fence,
      };
      expect(await a.set(KEY, late, 60_000)).toBe(false);
      expect(await a.l2.client.exists(`${(a.l2 as unknown as { prefix: string }).prefix}e:${KEY}`)).toBe(0);
      expect(await a.l1.get(KEY)).toBeUndefined();
      expect(await b.get(KEY, TAGS)).toBeUndefined();
      expect(await b.l1.get(KEY)).toBeUndefined();
    });
  });
});
