import { Controller, Get, HttpCode, INestApplication, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cacheable, InvalidateTags, ResponseCacheModule } from 'nestjs-response-cache';
import { ManualClock } from 'nestjs-response-cache/testing';
import { RedisCacheStore, RedisClient, createRedisClient } from 'nestjs-response-cache/redis';
import { RedisClusterProcesses } from '../support/redis-harness';
import { loseWriteAndFailOverCluster } from '../support/redis-failover';
import { RedisSentinelProcesses } from '../support/redis-sentinel';
import { uniquePrefix, whenReady } from '../support/redis-stores';

/**
 * Issue 24: Redis replicates asynchronously, so the replica promoted by a failover can lack an
 * invalidation that the old master acknowledged. The cache must never answer a GET with the data
 * that an acknowledged write replaced, across real failovers (three sentinels; a Cluster with
 * replicas), round after round. Rounds: FAILOVER_ROUNDS (default 20).
 */
const ROUNDS = Number(process.env.FAILOVER_ROUNDS ?? 20);

/** Reconnect every 100 ms (the default backoff grows to 2 s): the rounds end sooner, nothing else changes. */
const FAST_RECONNECT = { retryStrategy: () => 100 };

/** The app: `GET /item` cached under tag `item`, `POST /item` invalidates it. */
function itemApp(store: RedisCacheStore, clock: ManualClock) {
  const state = { version: 1 };
  @Controller('item')
  class ItemController {
    @Get()
    @Cacheable({ tags: ['item'] })
    read() {
      return { version: state.version };
    }

    @Post()
    @HttpCode(201)
    @InvalidateTags('item')
    write() {
      state.version++;
      return { version: state.version };
    }
  }
  @Module({
    imports: [
      ResponseCacheModule.forRoot({ store, clock, ttl: 300, resilience: { opTimeoutMs: 100, failureThreshold: 3, cooldownMs: 200 } }),
    ],
    controllers: [ItemController],
  })
  class AppModule {}
  return AppModule;
}

interface Read {
  status: number;
  xCache: string | null;
  version?: number;
  detail?: string;
}

class Client {
  constructor(readonly url: string) {}

  async read(): Promise<Read> {
    try {
      const res = await fetch(`${this.url}/item`, { signal: AbortSignal.timeout(3000) });
      const body = res.status === 200 ? ((await res.json()) as { version: number }) : undefined;
      return {
        status: res.status,
        xCache: res.headers.get('x-cache'),
        version: body?.version,
        ...(process.env.FAILOVER_DEBUG ? { detail: res.headers.get('cache-status') ?? '' } : {}),
      };
    } catch {
      return { status: 0, xCache: null };
    }
  }

  async write(): Promise<number> {
    const res = await fetch(`${this.url}/item`, { method: 'POST', signal: AbortSignal.timeout(3000) });
    expect(res.status).toBe(201);
    return ((await res.json()) as { version: number }).version;
  }

  /** Reads until a HIT of `version` (the entry is cached again). */
  async hitOf(version: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: Read | undefined;
    while (Date.now() < deadline) {
      last = await this.read();
      if (last.xCache === 'HIT' && last.version === version) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no HIT of version ${version} within ${timeoutMs} ms; last ${JSON.stringify(last)}`);
  }
}

/**
 * One round: the cached version v is a HIT; `failOver` loses the write of v+1 (acknowledged by the
 * master alone) and promotes the replica; meanwhile and after, a reader checks every answer given
 * after the acknowledgement until the new version is a HIT. Returns the answers with older data.
 */
async function round(client: Client, failOver: (write: () => Promise<void>) => Promise<unknown>): Promise<Read[]> {
  let acked = 0; // the version acknowledged so far (none yet: no answer is stale)
  const stale: Read[] = [];
  let reading = true;
  const log: string[] = [];
  const reader = (async () => {
    while (reading) {
      const startedAfter = acked;
      const answer = await client.read();
      if (process.env.FAILOVER_DEBUG) log.push(`${Date.now() % 100000} ${startedAfter} ${JSON.stringify(answer)} ${answer.detail}`);
      if (answer.status === 200 && answer.version !== undefined && answer.version < startedAfter) stale.push(answer);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  try {
    await failOver(async () => {
      acked = await client.write();
    });
    await client.hitOf(acked).catch((error: Error) => {
      throw stale.length === 0
        ? error
        : new Error(`${stale.length} answers with replaced data after the write of ${acked}, e.g. ${JSON.stringify(stale[0])}`);
    });
  } finally {
    reading = false;
    await reader;
    if (stale.length > 0 && process.env.FAILOVER_DEBUG) console.log(log.join('\n'));
  }
  return stale;
}

async function startApp(client: RedisClient, prefix: string): Promise<{ app: INestApplication; store: RedisCacheStore; http: Client }> {
  await whenReady(client);
  const store = new RedisCacheStore({ client, prefix, ownsClient: true, clock: new ManualClock(Date.now()) });
  const app = await NestFactory.create(itemApp(store, new ManualClock(Date.now())), { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return { app, store, http: new Client((await app.getUrl()).replace('[::1]', '127.0.0.1')) };
}

describe('failover never serves data that an acknowledged write replaced (issue 24)', () => {
  describe('Redis Sentinel: a master, a replica, three sentinels', () => {
    let redis: RedisSentinelProcesses;
    let app: INestApplication;
    let store: RedisCacheStore;
    let http: Client;
    beforeAll(async () => {
      redis = await RedisSentinelProcesses.start({ downAfterMs: 500, failoverTimeoutMs: 1000 });
      ({ app, store, http } = await startApp(
        createRedisClient({ sentinels: redis.sentinels, sentinelName: redis.name, redisOptions: FAST_RECONNECT }),
        uniquePrefix(),
      ));
    }, 60_000);
    afterAll(async () => {
      await app?.close();
      await redis?.stop();
    });

    it(`the replica paused while a write is acknowledged, the master killed, the replica promoted: ${ROUNDS} rounds`, async () => {
      const stale: Read[] = [];
      await http.write();
      for (let i = 0; i < ROUNDS; i++) {
        await http.hitOf((await http.read()).version ?? 0);
        stale.push(...(await round(http, (write) => redis.loseWriteAndFailOver(write))));
      }
      expect(stale).toEqual([]);
      expect(store.failoverEpochs).toBeGreaterThanOrEqual(ROUNDS);
      console.log(
        `sentinel: ${ROUNDS} failovers, ${stale.length} stale answers; failover ms: ${redis.failoverMs.map((ms) => ms.toFixed(0)).join(' ')}`,
      );
    }, 600_000);
  });

  describe('Redis Cluster: three masters, three replicas', () => {
    let cluster: RedisClusterProcesses;
    let app: INestApplication;
    let http: Client;
    // Every key of this store in one slot (a hash tag): the write's tag and URI versions and the
    // entry live on the shard that fails over.
    const prefix = `{${uniquePrefix()}}`;
    beforeAll(async () => {
      cluster = await RedisClusterProcesses.start({ replicas: 1, nodeTimeoutMs: 1000 });
      ({ app, http } = await startApp(createRedisClient({ clusterNodes: cluster.seeds, redisOptions: FAST_RECONNECT }), prefix));
    }, 60_000);
    afterAll(async () => {
      await app?.close();
      await cluster?.stop();
    });

    it(`the shard's replica paused while a write is acknowledged, then a takeover or a killed master: ${ROUNDS} rounds`, async () => {
      const stale: Read[] = [];
      const took: number[] = [];
      await http.write();
      for (let i = 0; i < ROUNDS; i++) {
        await http.hitOf((await http.read()).version ?? 0);
        const mode = i % 2 === 0 ? 'takeover' : 'kill';
        stale.push(
          ...(await round(http, async (write) => took.push(await loseWriteAndFailOverCluster(cluster, `${prefix}t:item`, write, mode)))),
        );
      }
      expect(stale).toEqual([]);
      console.log(`cluster: ${ROUNDS} failovers, ${stale.length} stale answers; failover ms: ${took.map((ms) => ms.toFixed(0)).join(' ')}`);
    }, 600_000);
  });
});
