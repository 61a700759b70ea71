import type { Cluster, Redis } from 'ioredis';
import { Clock, systemClock } from '../clock';
import { CacheEntry, CacheStore, KeyPage, StoreStats, TagSnapshot, fenceHolds, keyFenceTag } from '../store/cache-store';
import { noteRedirect, onSlotMaster, redirected } from './cluster-redirect';
import { FailoverGuard, historyKeyBeside } from './failover-guard';
import { DecodedEntries } from './decoded-entries';
import { encodeEntry } from './entry-codec';
import { RedisClient, quitClient, warnIfNoEviction } from './redis-client';
import type { RedisCacheStoreOptions } from './redis-store-options';
import { entryKeyBatches, scanEntryKeys } from './redis-scan';
import { UNKNOWN_VERSION, defineVersionScripts, freshVersion, isReplyError, parseVersion, reportReset } from './tag-versions';

/** Bumped by `clear()`; part of every fence, so a clear fences fills in flight and old entries. */
const GENERATION_TAG = '\u0001generation';

/**
 * A CacheStore on Redis (ioredis). Entries are binary strings under `<prefix>e:<key>` with native
 * TTL; tag versions are integers under `<prefix>t:<tag>` bumped with INCR. An entry and the
 * versions of its fence are read in one round trip (auto-pipelined per node, so it works when
 * they live on different Cluster slots) and the entry is returned only while its fence holds. On
 * standalone Redis a Lua script refuses a fill whose fence is already stale; on Cluster the check
 * precedes the write, and the read-side check is what keeps a late fill from being served.
 *
 * Fail safe under eviction and corruption: a version starts at a random value (made by the fill's
 * snapshot), so one made again after an eviction never equals what an old entry recorded; a
 * missing or unreadable version is unknown, and an entry that depends on it is a miss. Versions
 * live as long as the entries that depend on them (and `versionTtlSeconds` when none does), so any
 * eviction policy is safe, `allkeys-lru` included. An entry or version of the wrong type, or a
 * truncated or garbled entry, reads as a miss (never a store failure) and the next fill replaces it.
 * Failover safe: a promoted replica or a restarted server starts a new epoch ({@link FailoverGuard}).
 */
export class RedisCacheStore implements CacheStore {
  readonly name = 'redis';
  readonly client: RedisClient;
  private readonly prefix: string;
  private readonly codec: { compression: boolean; compressionThresholdBytes: number };
  private readonly versionTtlMs: number;
  private readonly ownsClient: boolean;
  private readonly clock: Clock;
  private readonly waitForReplicas: number;
  private readonly waitTimeoutMs: number;
  /** Failover safety: a new epoch (generation) for every new history of the data set. */
  private readonly failover: FailoverGuard;
  private readonly decoded = new DecodedEntries();

  /** How many new epochs this store started: the histories (failovers, restarts, new servers) it was the first instance to meet. */
  get failoverEpochs(): number {
    return this.failover.epochs;
  }

  constructor(options: RedisCacheStoreOptions) {
    this.clock = options.clock ?? systemClock;
    this.client = options.client;
    this.prefix = options.prefix ?? 'rc:';
    this.codec = { compression: options.compression ?? true, compressionThresholdBytes: options.compressionThresholdBytes ?? 1024 };
    this.versionTtlMs = (options.versionTtlSeconds ?? 600) * 1000;
    this.ownsClient = options.ownsClient ?? false;
    this.waitForReplicas = options.waitForReplicas ?? 0;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 50;
    defineVersionScripts(this.client);
    const generationKey = this.versionKey(GENERATION_TAG);
    this.failover = new FailoverGuard({
      client: this.client,
      generationKey,
      historyKey: historyKeyBeside(generationKey),
      versionTtlMs: this.versionTtlMs,
      fresh: freshVersion,
    });
    // Connection errors surface as failed commands; an unhandled 'error' event must not crash the app.
    if (this.client.listenerCount('error') === 0) this.client.on('error', () => undefined);
    // Once per Redis server and process, however many stores and clients point at it.
    void warnIfNoEviction(this.client);
  }

  private get scripts() {
    return defineVersionScripts(this.client);
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

  /**
   * Current versions (a missing, expired or unreadable one is {@link UNKNOWN_VERSION}) and the
   * replication ids of the nodes that answered: one script on a single node; on Cluster, one per
   * key, auto-pipelined per node.
   */
  private async versions(tags: readonly string[]): Promise<{ versions: number[]; replids: string[] }> {
    const keys = tags.map((tag) => this.versionKey(tag));
    if (!this.isCluster) {
      const [replid, ...raw] = await this.scripts.rcReadBuffer(keys.length, ...keys);
      return { versions: raw.map(parseVersion), replids: [String(replid)] };
    }
    const answers = await redirected(this.client, Promise.all(keys.map((k) => this.scripts.rcReadOneBuffer(k))));
    return { versions: answers.map(([, raw]) => parseVersion(raw)), replids: answers.map(([replid]) => String(replid)) };
  }

  /** The entry's bytes; a key of another type (WRONGTYPE) is a miss, which the next fill overwrites. */
  private async entryBytes(key: string): Promise<Buffer | null> {
    try {
      return await this.client.getBuffer(this.entryKey(key));
    } catch (error) {
      if (!isReplyError(error)) throw error;
      noteRedirect(this.client, error); // a moved slot (MOVED) is a miss too
      return null;
    }
  }

  /** The entry's bytes, the versions of `tags` and the replication ids they came with. */
  private async read(key: string, tags: readonly string[]): Promise<[Buffer | null, { versions: number[]; replids: string[] }]> {
    if (this.isCluster) return Promise.all([this.entryBytes(key), this.versions(tags)]);
    const [replid, raw, ...versions] = await this.scripts.rcReadBuffer(
      tags.length + 1,
      this.entryKey(key),
      ...tags.map((t) => this.versionKey(t)),
    );
    return [raw, { versions: versions.map(parseVersion), replids: [String(replid)] }];
  }

  /**
   * The entry, if its fence holds. Never a hit from a history of the data set that this cache has
   * not confirmed (after a failover or a reconnection: see {@link FailoverGuard}); such a read is a miss.
   */
  async get(key: string, fenceTags?: readonly string[]): Promise<CacheEntry | undefined> {
    if (!this.failover.connectionsChecked()) {
      // Disconnected: unavailable, as any command would be; connected but not yet confirmed: a miss.
      if (this.client.status !== 'ready') throw new Error(`Redis is not connected (${this.client.status})`);
      return undefined;
    }
    const mark = this.failover.mark();
    const expected = [...(fenceTags ?? []), GENERATION_TAG];
    const [raw, read] = await this.read(key, expected);
    if (raw === null) return undefined;
    const decoding = this.decoded.decode(key, raw);
    const decoded = decoding instanceof Promise ? await decoding : decoding;
    // Unreadable (corrupted, another version): a miss, and the next fill replaces it.
    if (decoded === undefined || this.clock.now() >= decoded.retainUntil) return undefined;
    const entry = decoded.entry;
    const tags = entry.fence.tags;
    const sameTags = tags.length === expected.length && tags.every((t, i) => t === expected[i]);
    const current = sameTags ? read : await this.versions(tags);
    if (!this.failover.trusts(sameTags ? read.replids : [...read.replids, ...current.replids], mark)) return undefined;
    return fenceHolds(entry.fence, current.versions) ? entry : undefined;
  }

  async set(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const bytes = await encodeEntry(entry, this.clock.now() + ttl, this.codec);
    const { tags, versions } = entry.fence;
    if (versions.includes(UNKNOWN_VERSION)) return false;
    // The versions must outlive the entry, or it would read as a miss before its time.
    const keep = ttl + this.versionTtlMs;
    if (!this.isCluster) {
      const keys = [this.entryKey(key), ...tags.map((t) => this.versionKey(t))];
      const stored = await this.scripts.rcFencedSet(keys.length, ...keys, ttl, bytes, keep, ...versions.map(String));
      return stored === 1;
    }
    // Cluster: the entry and its version keys live on different slots, so no single script can
    // see them all. Check, then write; a fill overtaken in between is refused on read.
    if (!fenceHolds(entry.fence, (await this.versions(tags)).versions)) return false;
    await redirected(this.client, Promise.all(tags.map((t) => this.scripts.rcExtend(this.versionKey(t), keep))));
    await redirected(this.client, this.client.set(this.entryKey(key), bytes, 'PX', ttl));
    return true;
  }

  /** Current versions, each made (random) where missing and reset where corrupted. */
  async snapshot(tags: readonly string[]): Promise<TagSnapshot> {
    const all = [...tags, GENERATION_TAG];
    const versions = await redirected(this.client, Promise.all(all.map((tag) => this.snapshotOne(tag))));
    return { tags: all, versions };
  }

  private async snapshotOne(tag: string): Promise<number> {
    const versionKey = this.versionKey(tag);
    const [version, reset] = await this.scripts.rcSnapshot(versionKey, freshVersion(), this.versionTtlMs);
    if (reset === 1) reportReset(versionKey);
    return parseVersion(version);
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    await Promise.all(tags.map((tag) => this.bump(tag)));
    await this.replicated();
  }

  async delete(key: string): Promise<boolean> {
    const unlink = onSlotMaster(this.client, (client) => client.unlink(this.entryKey(key)));
    const [removed] = await Promise.all([unlink, this.bump(keyFenceTag(key))]);
    await this.replicated();
    return removed > 0;
  }

  /** With `waitForReplicas`, waits (bounded) until that many replicas hold this connection's writes. */
  private async replicated(): Promise<void> {
    if (this.waitForReplicas <= 0) return;
    await Promise.all(this.masters().map((node) => node.wait(this.waitForReplicas, this.waitTimeoutMs)));
  }

  /** INCR where a version exists; nothing where none does (no entry depends on it); reset where corrupted. On the slot's master. */
  private async bump(tag: string): Promise<void> {
    const versionKey = this.versionKey(tag);
    const fresh = freshVersion();
    const result = await onSlotMaster(this.client, (client) => defineVersionScripts(client).rcBump(versionKey, fresh, this.versionTtlMs));
    if (result === 2) reportReset(versionKey);
  }

  async clear(): Promise<void> {
    await this.bump(GENERATION_TAG);
    await this.replicated();
    for (const node of this.masters()) {
      for await (const keys of entryKeyBatches(node, this.prefix)) {
        if (keys.length > 0) await Promise.all(keys.map((k) => this.client.unlink(k)));
      }
    }
  }

  /** Keys matching `pattern`, with SCAN (never KEYS), paged by a cursor over every master. */
  keys(pattern: string, limit: number, cursor?: string): Promise<KeyPage> {
    return scanEntryKeys(this.masters(), this.prefix, pattern, limit, cursor);
  }

  /**
   * Entries: counted with SCAN, stopping at 100 000 (an estimate past that); bytes: the Redis
   * servers' `used_memory`, which includes whatever else they hold.
   */
  async stats(): Promise<StoreStats> {
    let entries = 0;
    let sizeBytes = 0;
    for (const node of this.masters()) {
      for await (const keys of entryKeyBatches(node, this.prefix)) {
        entries += keys.length;
        if (entries >= 100_000) break;
      }
      const info = await node.info('memory');
      sizeBytes += Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
    }
    return { entries, sizeBytes };
  }

  /**
   * Resolves once commands can run: the client is ready and, on Cluster, so is the connection to
   * every master (ioredis opens them lazily, and with the offline queue off, the first command to
   * a node still connecting would fail), and the failover guard has confirmed every master.
   */
  async ready(): Promise<void> {
    if (this.client.status !== 'ready') await new Promise((resolve) => this.client.once('ready', resolve));
    if (!this.isCluster) return this.failover.settle();
    await Promise.all(
      this.masters().map(async (node) => {
        if (node.status === 'ready') return;
        const ready = new Promise((resolve) => node.once('ready', resolve));
        if (node.status === 'wait') node.connect().catch(() => undefined);
        await ready;
      }),
    );
    await this.failover.settle();
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    if (this.ownsClient) await quitClient(this.client);
  }

  private masters(): Redis[] {
    return this.isCluster ? (this.client as Cluster).nodes('master') : [this.client as Redis];
  }
}
