import { ManualClock } from 'nestjs-response-cache/testing';
import { RedisCacheStore, RedisClient, TieredCacheStore, createRedisClient, duplicateClient } from 'nestjs-response-cache/redis';

let counter = 0;

/** A prefix of its own for each store under test, so tests never see each other's keys. */
export function uniquePrefix(): string {
  return `t${process.pid}-${Date.now().toString(36)}-${counter++}:`;
}

export function whenReady(client: RedisClient): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis client not ready within 10 s')), 10_000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function redisStore(
  connection:
    | { url: string }
    | { clusterNodes: { host: string; port: number }[] }
    | { sentinels: { host: string; port: number }[]; sentinelName: string },
  clock = new ManualClock(),
  prefix = uniquePrefix(),
): Promise<{ store: RedisCacheStore; clock: ManualClock; client: RedisClient }> {
  const client = createRedisClient(connection);
  await whenReady(client);
  const store = new RedisCacheStore({ client, prefix, clock, ownsClient: true });
  await store.ready();
  return { store, clock, client };
}

/** Polls `check` until it holds (real-time events: a pub/sub message, a reconnection). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A tiered store (memory L1, Redis L2, invalidation bus) on `url`, trusted and ready. */
export async function tieredStore(url: string, prefix: string, clock = new ManualClock()) {
  const { store: l2 } = await redisStore({ url }, clock, prefix);
  const subscriber = duplicateClient(l2.client);
  const store = new TieredCacheStore({ l2, subscriber, channel: `${prefix}bus`, clock });
  await eventually(() => store.trusted, 'the bus subscription');
  return { store, clock };
}
