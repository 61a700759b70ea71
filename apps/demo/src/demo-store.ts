import {
  CacheStore,
  Clock,
  MemoryCacheStore,
  RedisCacheStore,
  TieredCacheStore,
  createRedisClient,
  duplicateClient,
} from '../../../libs/response-cache/src';
import { DemoConfig } from './demo.config';

/** The store CACHE_STORE names, built from the demo's variables. */
export function createDemoStore(config: DemoConfig, clock?: Clock): CacheStore {
  const maxSizeBytes = Math.round(config.cacheMaxMemoryMb * 1024 * 1024);
  if (config.cacheStore === 'memory') return new MemoryCacheStore({ maxSizeBytes, clock });
  const client = createRedisClient(
    config.redisClusterNodes.length > 0
      ? { clusterNodes: config.redisClusterNodes.map((node) => ({ host: node.split(':')[0], port: Number(node.split(':')[1]) })) }
      : { url: config.redisUrl },
  );
  const redis = new RedisCacheStore({
    client,
    prefix: config.cacheKeyPrefix,
    compression: config.cacheEnableCompression,
    compressionThresholdBytes: config.cacheCompressionThresholdBytes,
    ownsClient: true,
    clock,
  });
  if (config.cacheStore === 'redis') return redis;
  return new TieredCacheStore({
    l2: redis,
    subscriber: duplicateClient(client),
    channel: `${config.cacheKeyPrefix}bus`,
    l1MaxSizeBytes: maxSizeBytes,
    clock,
  });
}
