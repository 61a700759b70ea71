import type { Cluster, Redis } from 'ioredis';
import { Clock, systemClock } from '../clock';
import { CacheEntry, CacheStore, KeyPage, StoreStats, TagSnapshot, fenceHolds, keyFenceTag } from '../store/cache-store';
import { decodeEntry, encodeEntry } from './entry-codec';
import { quitClient } from './redis-client';

export type RedisClient = Redis | Cluster;

export interface RedisCacheStoreOptions {
  /** An ioredis client: standalone, Sentinel or Cluster (see `createRedisClient`). */
  client: RedisClient;
  /** Prefix of every key this store writes. Default `rc:`. */
  prefix?: string;
  /** Compress bodies larger than `compressionThresholdBytes`. Default true. */
  compression?: boolean;
  /** Default 1024. */
  compressionThresholdBytes?: number;
  /** How long a deleted key's fence lives, in seconds (longer than any fill). Default 3600. */
  keyFenceTtlSeconds?: number;
  /** Quit the client on `close()`. Default false (the caller owns it). */
  ownsClient?: boolean;
  /** Source of time: entries are also dropped on read once their TTL has passed on it. */
  clock?: Clock;
}

/** Bumped by `clear()`; part of every fence, so a clear fences fills in flight and old entries. */
const GENERATION_TAG = '\u0001generation';

/**
 * Standalone only: store the entry only if every fence version is still current, atomically.
 * KEYS[1] the entry, KEYS[2..] the version keys; ARGV[1] TTL in ms, ARGV[2] the entry bytes,
 * ARGV[3..] the expected versions.
 */
const FENCED_SET = `
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if (v or '0') ~= ARGV[i + 1] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
return 1`;

type FencedClient = RedisClient & {
  rcFencedSet(numKeys: number, ...args: (string | Buffer | number)[]): Promise<number>;
};

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * A CacheStore on Redis (ioredis). Entries are binary strings under `<prefix>e:<key>` with native
 * TTL; tag versions are integers under `<prefix>t:<tag>` bumped with INCR. An entry and the
 * versions of its fence are read in one round trip (auto-pipelined per node, so it works when
 * they live on different Cluster slots) and the entry is returned only while its fence holds. On
 * standalone Redis a Lua script refuses a fill whose fence is already stale; on Cluster the check
 * precedes the write, and the read-side check is what keeps a late fill from being served.
 *
 * Tag version keys have no TTL (they are a few bytes each): run Redis with a `volatile-*`
 * eviction policy so that only entries are evicted. Deleted keys' fences expire after an hour.
 */
export class RedisCacheStore implements CacheStore {
  readonly name = 'redis';
  readonly client: RedisClient;
  private readonly prefix: string;
  private readonly codec: { compression: boolean; compressionThresholdBytes: number };
  private readonly keyFenceTtlMs: number;
  private readonly ownsClient: boolean;
  private readonly clock: Clock;

  constructor(options: RedisCacheStoreOptions) {
    this.clock = options.clock ?? systemClock;
    this.client = options.client;
    this.prefix = options.prefix ?? 'rc:';
    this.codec = { compression: options.compression ?? true, compressionThresholdBytes: options.compressionThresholdBytes ?? 1024 };
    this.keyFenceTtlMs = (options.keyFenceTtlSeconds ?? 3600) * 1000;
    this.ownsClient = options.ownsClient ?? false;
    if (typeof (this.client as unknown as { rcFencedSet?: unknown }).rcFencedSet !== 'function') {
      this.client.defineCommand('rcFencedSet', { lua: FENCED_SET });
    }
    // Connection errors surface as failed commands; an unhandled 'error' event must not crash the app.
    if (this.client.listenerCount('error') === 0) this.client.on('error', () => undefined);
  }

  private entryKey(key: string): string {
    return `${this.prefix}e:${key}`;
  }

  private versionKey(tag: string): string {
    return `${this.prefix}t:${tag}`;
  }

  private get isCluster(): boolean {
    return (this.client as { isCluster?: boolean }).isCluster === true;
  }

  private async versions(tags: readonly string[]): Promise<number[]> {
    const keys = tags.map((tag) => this.versionKey(tag));
    // One MGET on a single node; on Cluster, one GET per key, auto-pipelined per node.
    const raw = this.isCluster ? await Promise.all(keys.map((k) => this.client.get(k))) : await this.client.mget(keys);
    return raw.map((v) => (v === null ? 0 : Number(v)));
  }

  async get(key: string, fenceTags?: readonly string[]): Promise<CacheEntry | undefined> {
    const expected = [...(fenceTags ?? []), GENERATION_TAG];
    const [raw, versions] = await Promise.all([this.client.getBuffer(this.entryKey(key)), this.versions(expected)]);
    if (raw === null) return undefined;
    const decoded = await decodeEntry(raw);
    // Unreadable (corrupted, another version): a miss, and the next fill replaces it.
    if (decoded === undefined || this.clock.now() >= decoded.retainUntil) return undefined;
    const entry = decoded.entry;
    const tags = entry.fence.tags;
    const sameTags = tags.length === expected.length && tags.every((t, i) => t === expected[i]);
    const current = sameTags ? versions : await this.versions(tags);
    return fenceHolds(entry.fence, current) ? entry : undefined;
  }

  async set(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const bytes = await encodeEntry(entry, this.clock.now() + ttl, this.codec);
    const { tags, versions } = entry.fence;
    if (!this.isCluster) {
      const keys = [this.entryKey(key), ...tags.map((t) => this.versionKey(t))];
      const stored = await (this.client as unknown as FencedClient).rcFencedSet(keys.length, ...keys, ttl, bytes, ...versions.map(String));
      return stored === 1;
    }
    // Cluster: the entry and its version keys live on different slots, so no single script can
    // see them all. Check, then write; a fill overtaken in between is refused on read.
    if (!fenceHolds(entry.fence, await this.versions(tags))) return false;
    await this.client.set(this.entryKey(key), bytes, 'PX', ttl);
    return true;
  }

  async snapshot(tags: readonly string[]): Promise<TagSnapshot> {
    const all = [...tags, GENERATION_TAG];
    return { tags: all, versions: await this.versions(all) };
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    await Promise.all(tags.map((tag) => this.client.incr(this.versionKey(tag))));
  }

  async delete(key: string): Promise<boolean> {
    const fence = this.versionKey(keyFenceTag(key));
    const [removed] = await Promise.all([this.client.unlink(this.entryKey(key)), this.client.incr(fence)]);
    await this.client.pexpire(fence, this.keyFenceTtlMs);
    return removed > 0;
  }

  async clear(): Promise<void> {
    await this.client.incr(this.versionKey(GENERATION_TAG));
    for (const node of this.masters()) {
      for await (const keys of this.entryKeyBatches(node)) {
        if (keys.length > 0) await Promise.all(keys.map((k) => this.client.unlink(k)));
      }
    }
  }

  /**
   * Keys matching `pattern`, with SCAN (never KEYS). The cursor is `<node>:<scan cursor>`; a page
   * holds at least `limit` keys unless the listing ends, and at most what ten SCAN calls return.
   */
  async keys(pattern: string, limit: number, cursor?: string): Promise<KeyPage> {
    const nodes = this.masters();
    let [nodeIndex, scanCursor] = cursor === undefined ? [0, '0'] : parseCursor(cursor);
    const match = `${escapeGlob(this.prefix)}e:${pattern}`;
    const strip = this.prefix.length + 2;
    const keys: string[] = [];
    for (let calls = 0; calls < 10 && nodeIndex < nodes.length && keys.length < limit; calls++) {
      const [next, batch] = await nodes[nodeIndex].scan(scanCursor, 'MATCH', match, 'COUNT', Math.max(limit, 100));
      for (const k of batch) keys.push(k.slice(strip));
      if (next === '0') {
        nodeIndex++;
        scanCursor = '0';
      } else {
        scanCursor = next;
      }
    }
    return { keys, cursor: nodeIndex < nodes.length ? `${nodeIndex}:${scanCursor}` : undefined };
  }

  /**
   * Entries: counted with SCAN, stopping at 100 000 (an estimate past that); bytes: the Redis
   * servers' `used_memory`, which includes whatever else they hold.
   */
  async stats(): Promise<StoreStats> {
    let entries = 0;
    let sizeBytes = 0;
    for (const node of this.masters()) {
      for await (const keys of this.entryKeyBatches(node)) {
        entries += keys.length;
        if (entries >= 100_000) break;
      }
      const info = await node.info('memory');
      sizeBytes += Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
    }
    return { entries, sizeBytes };
  }

  async ready(): Promise<void> {
    if (this.client.status === 'ready') return;
    await new Promise((resolve) => this.client.once('ready', resolve));
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    if (this.ownsClient) await quitClient(this.client);
  }

  /** Every entry key of this store on `node`, batch by batch (SCAN, never KEYS). */
  private async *entryKeyBatches(node: Redis): AsyncGenerator<string[]> {
    const match = `${escapeGlob(this.prefix)}e:*`;
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      yield keys;
    } while (cursor !== '0');
  }

  private masters(): Redis[] {
    return this.isCluster ? (this.client as Cluster).nodes('master') : [this.client as Redis];
  }
}

function parseCursor(cursor: string): [number, string] {
  const match = /^(\d+):(\d+)$/.exec(cursor);
  if (match === null) throw new RangeError(`invalid cursor "${cursor}"`);
  return [Number(match[1]), match[2]];
}
