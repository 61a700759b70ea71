import { Cluster, Redis, RedisOptions } from 'ioredis';
import { ResponseCacheConfigError } from '../response-cache.errors';
import type { RedisClient } from './redis.store';

export interface RedisConnectionOptions {
  /** `redis://[:password@]host:port[/db]` (standalone). */
  url?: string;
  /** Cluster seeds; when given, a Cluster client is made. */
  clusterNodes?: { host: string; port: number }[];
  /** Sentinel mode: the sentinels and the master's name. */
  sentinels?: { host: string; port: number }[];
  sentinelName?: string;
  /** Extra ioredis options (merged over the safe defaults below). */
  redisOptions?: RedisOptions;
}

/**
 * The ioredis options the cache needs so that a dead or hung Redis costs a request at most the
 * store timeout: no offline queue (commands fail at once while disconnected), no retries of
 * commands in flight, a short connect timeout, reconnection with a capped backoff, and
 * auto-pipelining (commands issued together travel together, per node).
 */
export const SAFE_REDIS_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  enableAutoPipelining: true,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  connectTimeout: 1000,
  retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
};

/** Makes an ioredis client (standalone, Sentinel or Cluster) with {@link SAFE_REDIS_OPTIONS}. */
export function createRedisClient(options: RedisConnectionOptions): RedisClient {
  const redisOptions: RedisOptions = { ...SAFE_REDIS_OPTIONS, ...options.redisOptions };
  let client: RedisClient;
  if (options.clusterNodes !== undefined && options.clusterNodes.length > 0) {
    client = new Cluster(options.clusterNodes, {
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
      slotsRefreshTimeout: 1000,
      redisOptions,
    });
  } else if (options.sentinels !== undefined && options.sentinels.length > 0) {
    if (options.sentinelName === undefined) {
      throw new ResponseCacheConfigError('sentinelName', 'Sentinel mode needs the master name', 'Pass sentinelName, e.g. "mymaster".');
    }
    client = new Redis({ ...redisOptions, sentinels: options.sentinels, name: options.sentinelName });
  } else {
    const url = options.url ?? 'redis://127.0.0.1:6379';
    if (!/^rediss?:\/\//.test(url)) {
      throw new ResponseCacheConfigError(
        'url',
        `"${url.replace(/\/\/[^@]*@/, '//***@')}" is not a redis:// URL`,
        'Use redis://host:6379 (REDIS_URL in the demo).',
      );
    }
    client = new Redis(url, redisOptions);
  }
  client.on('error', () => undefined); // failures are seen, counted and logged per operation
  return client;
}

/** A second connection like `client` (for the invalidation bus's subscription). */
export function duplicateClient(client: RedisClient): RedisClient {
  return (client as { isCluster?: boolean }).isCluster === true ? (client as Cluster).duplicate() : (client as Redis).duplicate();
}

/**
 * For a subscriber connection whose owner subscribes again on every `ready` (the tiered store's bus,
 * the stampede lease): turns off ioredis's own resubscription, which adds nothing then and leaves
 * its promise unhandled when the connection drops again during the handshake (an unhandled
 * rejection can stop a process). Cluster clients resubscribe through their own subscriber.
 */
export function resubscribeOnReady(subscriber: RedisClient): void {
  if ((subscriber as { isCluster?: boolean }).isCluster !== true) (subscriber as Redis).options.autoResubscribe = false;
}

/** Quits politely, but never waits on a hung server for more than `waitMs`: then disconnects. */
export async function quitClient(client: RedisClient, waitMs = 500): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.quit(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('quit timed out')), waitMs))),
    ]);
  } catch {
    client.disconnect();
  } finally {
    clearTimeout(timer);
  }
}
