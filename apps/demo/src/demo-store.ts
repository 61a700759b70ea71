import { CacheStore, Clock, MemoryCacheStore, StampedeLock } from 'nestjs-response-cache';
import { RedisCacheStore, RedisStampedeLock, TieredCacheStore, createRedisClient, duplicateClient } from 'nestjs-response-cache/redis';
import { DemoConfig } from './demo.config';

/** The store CACHE_STORE names, and the stampede lock of the Redis stores, from the demo's variables. */
export function createDemoStore(config: DemoConfig, clock?: Clock): { store: CacheStore; stampedeLock?: StampedeLock } {
  const maxSizeBytes = Math.round(config.cacheMaxMemoryMb * 1024 * 1024);
  if (config.cacheStore === 'memory') return { store: new MemoryCacheStore({ maxSizeBytes, clock }) };
  const hostPort = (pair: string) => ({ host: pair.split(':')[0], port: Number(pair.split(':')[1]) });
  const client = createRedisClient(
    config.redisClusterNodes.length > 0
      ? { clusterNodes: config.redisClusterNodes.map(hostPort) }
      : config.redisSentinels.length > 0
        ? { sentinels: config.redisSentinels.map(hostPort), sentinelName: config.redisSentinelName }
        : { url: config.redisUrl },
  );
  const redis = new RedisCacheStore({
    client,
    prefix: config.cacheKeyPrefix,
    compression: config.cacheEnableCompression,
    compressionThresholdBytes: config.cacheCompressionThresholdBytes,
    ownsClient: true,
    clock,
    waitForReplicas: config.redisWaitReplicas,
    waitTimeoutMs: config.redisWaitTimeoutMs,
  });
  const stampedeLock = config.stampedeLock
    ? new RedisStampedeLock({
        client,
        subscriber: duplicateClient(client),
        prefix: config.cacheKeyPrefix,
        timeoutMs: config.cacheOpTimeoutMs,
      })
    : undefined;
  if (config.cacheStore === 'redis') return { store: redis, stampedeLock };
  const tiered = new TieredCacheStore({
    l2: redis,
    subscriber: duplicateClient(client),
    channel: `${config.cacheKeyPrefix}bus`,
    l1MaxSizeBytes: maxSizeBytes,
    clock,
  });
  return { store: tiered, stampedeLock };
}
