import { cacheEntry } from 'nestjs-response-cache/testing';
import { CacheStore } from 'nestjs-response-cache';
import { CacheEngine } from 'nestjs-response-cache/internal/engine/cache-engine';
import { ManualClock } from 'nestjs-response-cache/testing';
import { CacheEvents } from 'nestjs-response-cache/internal/observability/cache-events';
import { CacheStats } from 'nestjs-response-cache/internal/observability/cache-stats';
import { CacheTelemetry } from 'nestjs-response-cache/internal/observability/cache-telemetry';
import { resolveOptions } from 'nestjs-response-cache/internal/options/resolve-options';
import { RedisClusterProcesses, RedisProcess } from '../support/redis-harness';
import { eventually, redisStore, tieredStore, uniquePrefix } from '../support/redis-stores';

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

// The longest operation bound: a Cluster client's first commands (slot discovery) can take ~100 ms.
const service = (store: CacheStore, clock: ManualClock) =>
  new CacheEngine(
    resolveOptions({ clock, store, resilience: { opTimeoutMs: 250 } }),
    new CacheTelemetry(new CacheStats(), new CacheEvents()),
  );

/** An entry (its fence is the engine's to attach), stored now, fresh for 60 s. */
const entry = (body: string, clock: ManualClock) => {
  const { fence: _fence, ...entry } = cacheEntry({ body, headers: {} }, clock.now());
  return entry;
};

type Pair = { reader: CacheStore; writer: CacheStore; clock: ManualClock; close(): Promise<void> };

/** Tags learned from the result, on the remote stores: two instances (services) share one store. */
describe('resultTags on Redis, Redis Cluster and tiered stores', () => {
  let redis: RedisProcess;
  let cluster: RedisClusterProcesses;
  beforeAll(async () => {
    [redis, cluster] = await Promise.all([RedisProcess.start(), RedisClusterProcesses.start()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([redis?.stop(), cluster?.stop()]);
  });

  const pairs: [string, () => Promise<Pair>][] = [
    [
      'redis',
      async () => {
        const { store, clock } = await redisStore({ url: redis.url });
        return { reader: store, writer: store, clock, close: () => store.close() };
      },
    ],
    [
      'cluster',
      async () => {
        const { store, clock } = await redisStore({ clusterNodes: cluster.seeds });
        return { reader: store, writer: store, clock, close: () => store.close() };
      },
    ],
    [
      'tiered (two instances)',
      async () => {
        const prefix = uniquePrefix();
        const clock = new ManualClock();
        const [a, b] = await Promise.all([tieredStore(redis.url, prefix, clock), tieredStore(redis.url, prefix, clock)]);
        return { reader: a.store, writer: b.store, clock, close: async () => void (await Promise.all([a.store.close(), b.store.close()])) };
      },
    ],
  ];

  describe.each(pairs)('%s', (_name, make) => {
    let pair: Pair;
    let reader: CacheEngine;
    let writer: CacheEngine;
    beforeEach(async () => {
      pair = await make();
      await Promise.all([pair.reader.snapshot(['warm-up']), pair.writer.snapshot(['warm-up'])]);
      reader = service(pair.reader, pair.clock);
      writer = service(pair.writer, pair.clock);
    });
    afterEach(async () => {
      await reader.settle();
      await writer.settle();
      await pair.close();
    });

    const fill = (produce: () => Promise<string>) =>
      reader.fill(
        'GET /posts',
        ['posts-page'],
        60_000,
        async () => {
          const body = await produce();
          return { value: body, entry: entry(body, pair.clock), tags: ['post:1', 'post:2'] };
        },
        { resultTags: true },
      );
    const stored = async () => {
      const found = await reader.lookup('GET /posts', ['posts-page']);
      return typeof found === 'object' ? found.body : found;
    };

    it('an entry is fenced by its result tags: invalidating one of them (from the other instance) drops it', async () => {
      await fill(async () => 'v1');
      await reader.settle();
      expect(await stored()).toBe('v1');
      await writer.invalidateTags(['post:3']);
      await new Promise((resolve) => setTimeout(resolve, 50)); // time for the bus to be heard, if it were to drop it
      expect(await stored()).toBe('v1');
      await writer.invalidateTags(['post:2']);
      // On the tiered store the other instance's L1 hears of it over the bus.
      await eventually(async () => (await stored()) === undefined, 'the invalidation of post:2');
    });

    it('a write to a result tag while the handler runs leaves nothing stored', async () => {
      const readDone = gate();
      const mayReturn = gate();
      const filling = fill(async () => {
        readDone.open(); // the handler read the old data
        await mayReturn.promise;
        return 'old';
      });
      await readDone.promise;
      await writer.invalidateTags(['post:1']); // the write commits and invalidates meanwhile
      mayReturn.open();
      await filling;
      await reader.settle();
      expect(await stored()).toBeUndefined();
    });
  });
});
