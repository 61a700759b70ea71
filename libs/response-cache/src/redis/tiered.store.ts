import { randomUUID } from 'node:crypto';
import { Clock, systemClock } from '../clock';
import { CacheEntry, CacheStore, KeyPage, StoreStats, TagSnapshot } from '../store/cache-store';
import { MemoryCacheStore } from '../store/memory.store';
import { BusHeartbeat } from './bus-heartbeat';
import { quitClient, resubscribeOnReady } from './redis-client';
import type { RedisCacheStore } from './redis.store';
import type { RedisClient } from './redis-client';

export interface TieredCacheStoreOptions {
  /** The shared L2. */
  l2: RedisCacheStore;
  /**
   * A dedicated connection for the invalidation bus (a subscribed connection cannot run other
   * commands): typically `l2.client.duplicate()`. The store subscribes and quits it on close.
   */
  subscriber: RedisClient;
  /** The bus channel. Default `<prefix>bus`, `rc:bus`. */
  channel?: string;
  /** Bound of L1 in bytes of stored entries. Default 100 MiB. */
  l1MaxSizeBytes?: number;
  /** How long an entry stays in L1, in seconds (never past its freshness). Default 30. */
  l1TtlSeconds?: number;
  /**
   * A PING on the bus connection unanswered for this long (a hung Redis keeps the connection open
   * but delivers nothing) stops L1 from answering until the next answer. Keep it below the
   * module's `resilience.opTimeoutMs`, the longest a write waits on a hung Redis before it is acknowledged.
   * Default 50.
   */
  busTimeoutMs?: number;
  clock?: Clock;
}

type BusMessage = { origin: string } & ({ type: 'tags'; tags: string[] } | { type: 'key'; key: string } | { type: 'clear' });

/**
 * A memory L1 in front of a Redis L2, kept coherent across instances. L2 hits are copied into
 * L1. Every invalidation (tags, key, clear) is applied to L2, then to the local L1, then
 * published on a Redis channel; every other instance applies it to its own L1. Only
 * invalidations travel on the bus, never values.
 *
 * Pub/sub delivers at most once: messages sent while an instance's subscriber is disconnected
 * are lost to it. So L1 is trusted only while the subscription is live; while it is down every
 * read goes to L2, and L1 is flushed when the subscription is back. A local sequence number,
 * bumped by every invalidation applied here, keeps an entry out of L1 when an invalidation
 * arrived between the moment it was read or fenced and the moment it would be copied.
 * A subscription can also stall without closing (a hung Redis): a PING every `busTimeoutMs / 4`
 * on the bus connection tells (see `BusHeartbeat`); L1 is distrusted from a stall to the next
 * answer, then flushed before it is trusted again.
 */
export class TieredCacheStore implements CacheStore {
  readonly name = 'tiered';
  readonly l1: MemoryCacheStore;
  readonly l2: RedisCacheStore;
  private readonly subscriber: RedisClient;
  private readonly channel: string;
  private readonly l1TtlMs: number;
  private readonly clock: Clock;
  private readonly origin = randomUUID();
  /** Bumped by every invalidation applied to L1, and whenever trust in L1 changes. */
  private sequence = 0;
  private readonly fencedAt = new WeakMap<TagSnapshot, number>();
  /** L1 holds copies re-fenced with its own versions; reads give back the entry as stored. */
  private readonly originals = new WeakMap<CacheEntry, CacheEntry>();
  /** The subscription is live (SUBSCRIBE answered, the connection not closed since). */
  private listening = false;
  /** L1 may answer: the subscription is live and the bus has not stalled. */
  private subscribed = false;
  private closed = false;
  private readonly heartbeat: BusHeartbeat;

  constructor(options: TieredCacheStoreOptions) {
    this.l2 = options.l2;
    this.clock = options.clock ?? systemClock;
    this.l1 = new MemoryCacheStore({ maxSizeBytes: options.l1MaxSizeBytes, clock: this.clock });
    this.l1TtlMs = (options.l1TtlSeconds ?? 30) * 1000;
    this.channel = options.channel ?? 'rc:bus';
    this.subscriber = options.subscriber;
    const busTimeoutMs = options.busTimeoutMs ?? 50;
    this.heartbeat = new BusHeartbeat({
      client: this.subscriber,
      intervalMs: Math.max(1, Math.floor(busTimeoutMs / 4)),
      timeoutMs: busTimeoutMs,
      onStall: () => this.distrust(),
      onRecover: () => void this.trustAgain(),
    });
    resubscribeOnReady(this.subscriber);
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) void this.apply(message);
    });
    this.subscriber.on('close', () => this.unsubscribed());
    this.subscriber.on('end', () => this.unsubscribed());
    this.subscriber.on('ready', () => void this.subscribe());
    if (this.subscriber.status === 'ready') void this.subscribe();
  }

  /** Whether L1 may answer reads: the bus subscription is live. */
  get trusted(): boolean {
    return this.subscribed;
  }

  async get(key: string, fenceTags?: readonly string[]): Promise<CacheEntry | undefined> {
    if (this.subscribed) {
      const local = await this.l1.get(key, fenceTags);
      if (local !== undefined) return this.originals.get(local) ?? local;
    }
    const sequence = this.sequence;
    const entry = await this.l2.get(key, fenceTags);
    if (entry !== undefined && this.subscribed && sequence === this.sequence) await this.copyToL1(key, entry, this.l1TtlMs);
    return entry;
  }

  /** The L1 copy, while the bus is trusted (as `get` reads it first). */
  peek(key: string): CacheEntry | undefined {
    if (!this.subscribed) return undefined;
    const local = this.l1.peek(key);
    return local === undefined ? undefined : (this.originals.get(local) ?? local);
  }

  async set(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean> {
    const fencedAt = this.fencedAt.get(entry.fence);
    const stored = await this.l2.set(key, entry, ttlMs);
    if (stored && this.subscribed && fencedAt === this.sequence) await this.copyToL1(key, entry, Math.min(ttlMs, this.l1TtlMs));
    return stored;
  }

  async snapshot(tags: readonly string[]): Promise<TagSnapshot> {
    const sequence = this.sequence;
    const snapshot = await this.l2.snapshot(tags);
    this.fencedAt.set(snapshot, sequence);
    return snapshot;
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    await this.l2.invalidateTags(tags);
    await this.applyLocally({ origin: this.origin, type: 'tags', tags: [...tags] });
  }

  async delete(key: string): Promise<boolean> {
    const existed = await this.l2.delete(key);
    await this.applyLocally({ origin: this.origin, type: 'key', key });
    return existed;
  }

  async clear(): Promise<void> {
    await this.l2.clear();
    await this.applyLocally({ origin: this.origin, type: 'clear' });
  }

  keys(pattern: string, limit: number, cursor?: string): Promise<KeyPage> {
    return this.l2.keys(pattern, limit, cursor);
  }

  stats(): Promise<StoreStats> {
    return this.l2.stats();
  }

  ready(): Promise<void> {
    return this.l2.ready();
  }

  ping(): Promise<void> {
    return this.l2.ping();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.heartbeat.stop();
    this.unsubscribed();
    await quitClient(this.subscriber);
    await this.l2.close();
  }

  /** Copies into L1 for at most `maxTtlMs`, and never past the entry's freshness. */
  private async copyToL1(key: string, entry: CacheEntry, maxTtlMs: number): Promise<void> {
    const ttl = Math.min(maxTtlMs, entry.expiresAt - this.clock.now());
    if (ttl <= 0) return;
    // L1 validates against its own versions, which the bus keeps in step.
    const copy = { ...entry, fence: await this.l1.snapshot(entry.fence.tags) };
    this.originals.set(copy, entry);
    await this.l1.set(key, copy, ttl);
  }

  /** Applies an invalidation here, then tells the other instances; a publish never blocks. */
  private async applyLocally(message: BusMessage): Promise<void> {
    await this.applyToL1(message);
    this.l2.client.publish(this.channel, JSON.stringify(message)).catch(() => undefined);
  }

  private async apply(raw: string): Promise<void> {
    let message: BusMessage;
    try {
      message = JSON.parse(raw) as BusMessage;
    } catch {
      return;
    }
    if (message.origin === this.origin) return;
    await this.applyToL1(message);
  }

  private async applyToL1(message: BusMessage): Promise<void> {
    this.sequence++;
    if (message.type === 'tags' && Array.isArray(message.tags)) await this.l1.invalidateTags(message.tags);
    else if (message.type === 'key' && typeof message.key === 'string') await this.l1.delete(message.key);
    else await this.l1.clear();
  }

  private async subscribe(): Promise<void> {
    if (this.closed) return;
    try {
      await this.subscriber.subscribe(this.channel);
      this.listening = true;
      this.heartbeat.reset();
      await this.trustAgain();
    } catch {
      this.unsubscribed();
    }
  }

  /** Messages may have been missed while the bus was down or stalled: L1 starts empty. */
  private async trustAgain(): Promise<void> {
    if (!this.listening || !this.heartbeat.healthy || this.closed) return;
    await this.l1.clear();
    this.sequence++;
    if (this.listening && this.heartbeat.healthy && !this.closed) this.subscribed = true;
  }

  private unsubscribed(): void {
    this.listening = false;
    this.distrust();
  }

  private distrust(): void {
    this.subscribed = false;
    this.sequence++;
  }
}
