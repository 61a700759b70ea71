import { Logger } from '@nestjs/common';
import { Cluster, Redis, RedisOptions } from 'ioredis';
import { ResponseCacheConfigError } from '../response-cache.errors';

/** An ioredis client: standalone, Sentinel or Cluster. */
export type RedisClient = Redis | Cluster;

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
    checkRedisUrl(url);
    client = new Redis(url, redisOptions);
  }
  client.on('error', () => undefined); // failures are seen, counted and logged per operation
  reportUnreachableAtStartup(client, describeTarget(options));
  return client;
}

/** Refuses a URL that ioredis would reject with a raw TypeError (or would silently misread). */
function checkRedisUrl(url: string): void {
  const shown = url.replace(/\/\/[^@]*@/, '//***@');
  const fix = 'Use redis://[:password@]host:6379[/db], or rediss:// for TLS.';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ResponseCacheConfigError('url', `"${shown}" is not a URL`, fix);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ResponseCacheConfigError('url', `"${shown}" is not a redis:// URL`, fix);
  }
  if (parsed.hostname === '') throw new ResponseCacheConfigError('url', `"${shown}" has no host`, fix);
  // WHATWG URL refuses ports above 65535 and non-digits; port 0 is left, and ioredis cannot use it.
  if (parsed.port === '0') throw new ResponseCacheConfigError('url', `"${shown}" has port 0`, fix);
}

function describeTarget(options: RedisConnectionOptions): string {
  if (options.clusterNodes !== undefined && options.clusterNodes.length > 0) {
    return `Redis Cluster (${options.clusterNodes.map((n) => `${n.host}:${n.port}`).join(', ')})`;
  }
  if (options.sentinels !== undefined && options.sentinels.length > 0) return `Redis Sentinel master "${options.sentinelName}"`;
  const url = new URL(options.url ?? 'redis://127.0.0.1:6379');
  return `Redis at ${url.hostname}:${url.port || 6379}`;
}

/**
 * One log line when the first connection fails, naming the server and what the cache does
 * meanwhile; nothing more until it connects (each failed operation is counted and throttled apart).
 */
function reportUnreachableAtStartup(client: RedisClient, target: string): void {
  const onError = (error: Error) => {
    client.off('ready', onReady);
    const reason = (error as { code?: string }).code ?? error.message;
    new Logger('ResponseCache').warn(
      `${target} is unreachable (${reason}): requests are served by their handlers without the cache until it connects; retrying in the background`,
    );
  };
  const onReady = () => client.off('error', onError);
  client.once('error', onError);
  client.once('ready', onReady);
}

/** Server addresses whose eviction policy this process has checked (one line per server, not per store or client). */
const checkedServers = new Set<string>();

/** The address that names `node`'s server: `host:port`, or the Sentinel master's name. */
function serverAddress(node: Redis): string {
  const { host, port, name, sentinels } = node.options;
  return sentinels !== undefined && sentinels !== null && sentinels.length > 0 ? `sentinel master "${name}"` : `${host}:${port}`;
}

/**
 * One warning when the server behind `client` (its first master on Cluster) has
 * `maxmemory-policy noeviction`: once full, Redis refuses writes and the cache then stops storing
 * and invalidating. Checked once per server address per process, however many clients and stores
 * point at it, when `client` is ready (now or later); a server where CONFIG is disabled (managed
 * Redis) has nothing to say.
 */
export function warnIfNoEviction(client: RedisClient): Promise<void> {
  if (client.status === 'ready') return checkEvictionPolicy(client);
  return new Promise((resolve) => client.once('ready', () => void checkEvictionPolicy(client).then(resolve)));
}

async function checkEvictionPolicy(client: RedisClient): Promise<void> {
  const node = (client as { isCluster?: boolean }).isCluster === true ? (client as Cluster).nodes('master')[0] : (client as Redis);
  if (node === undefined) return;
  const address = serverAddress(node);
  if (checkedServers.has(address)) return;
  checkedServers.add(address); // before the round trip: stores made together check once
  try {
    const [, policy] = (await node.config('GET', 'maxmemory-policy')) as string[];
    if (policy !== 'noeviction') return;
    new Logger('ResponseCache').warn(
      `Redis maxmemory-policy is noeviction (${address}): once it is full, Redis refuses writes, and the cache serves without storing ` +
        '(and without hits while an invalidation waits). allkeys-lru or volatile-lru evict instead; both are safe.',
    );
  } catch {
    // CONFIG may be disabled (managed Redis): nothing to say.
  }
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
