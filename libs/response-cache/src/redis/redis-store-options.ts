import type { Clock } from '../clock';
import type { RedisClient } from './redis-client';

/** Options of `new RedisCacheStore(…)`. */
export interface RedisCacheStoreOptions {
  /** An ioredis client: standalone, Sentinel or Cluster (see `createRedisClient`). */
  client: RedisClient;
  /** Prefix of every key this store writes. Default `rc:`. */
  prefix?: string;
  /** Compress bodies larger than `compressionThresholdBytes`. Default true. */
  compression?: boolean;
  /** Default 1024. */
  compressionThresholdBytes?: number;
  /**
   * How long a tag version that no stored entry depends on yet lives, in seconds (a fill's snapshot
   * makes it; storing the entry keeps it alive past the entry's own lifetime). Longer than any
   * handler runs. Default 600.
   */
  versionTtlSeconds?: number;
  /** Quit the client on `close()`. Default false (the caller owns it). */
  ownsClient?: boolean;
  /** Source of time: entries are also dropped on read once their TTL has passed on it. */
  clock?: Clock;
  /**
   * Replicas that must hold an invalidation before it completes: `WAIT waitForReplicas
   * waitTimeoutMs` after every invalidation, delete and clear (on Cluster, on every master). Not
   * needed for failover safety (a failover starts a new epoch, see the README), and it holds the
   * connection's other commands behind it while it waits. Default 0 (no WAIT).
   */
  waitForReplicas?: number;
  /** Bound of each WAIT, in ms. Default 50. */
  waitTimeoutMs?: number;
}
