/**
 * `nestjs-response-cache/redis`: the Redis store (standalone, Sentinel, Cluster), the tiered store
 * (memory L1 in front of Redis L2) and the cross-instance stampede lease, on `ioredis` (an optional
 * peer, installed by apps that use this).
 */
import './peer-check'; // first: names a missing optional peer before anything needs it
export { RedisCacheStore } from './redis.store';
export type { RedisClient } from './redis-client';
export { TieredCacheStore } from './tiered.store';
export { RedisStampedeLock } from './redis-stampede-lock';
export { createRedisClient, duplicateClient } from './redis-client';
