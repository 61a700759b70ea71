import { ManualClock } from '../../libs/response-cache/src';
import { createRedisClient } from '../../libs/response-cache/src/store/redis-client';
import { RedisCacheStore, RedisClient } from '../../libs/response-cache/src/store/redis.store';

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
  connection: { url: string } | { clusterNodes: { host: string; port: number }[] },
  clock = new ManualClock(),
  prefix = uniquePrefix(),
): Promise<{ store: RedisCacheStore; clock: ManualClock; client: RedisClient }> {
  const client = createRedisClient(connection);
  await whenReady(client);
  return { store: new RedisCacheStore({ client, prefix, clock, ownsClient: true }), clock, client };
}
