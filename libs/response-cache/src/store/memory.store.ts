import { LRUCache } from 'lru-cache';
import { Clock, systemClock } from '../clock';
import { CacheEntry, CacheStore, KeyPage, StoreStats, TagSnapshot, entrySize, globToRegExp, keyFenceTag } from './cache-store';

export interface MemoryCacheStoreOptions {
  /** Bound on the bytes of stored entries (key, body, headers, fence). Default 100 MiB. */
  maxSizeBytes?: number;
  /** Bound on remembered tag versions (tags and deleted keys). Default 100 000. */
  maxTags?: number;
  /** Source of time for expiry. Default: the system clock. */
  clock?: Clock;
}

interface Slot {
  entry: CacheEntry;
  /** The store drops the entry at this time (ms since epoch). */
  retainUntil: number;
  size: number;
}

export const DEFAULT_MAX_MEMORY_BYTES = 100 * 1024 * 1024;

/**
 * In-process store on lru-cache, bounded in bytes. Expiry is checked against the injected
 * clock on read, so tests move time instead of sleeping.
 *
 * Tag versions come from one monotonic sequence. They live in a bounded LRU of their own; when
 * a version is evicted, the "floor" (the version an unknown tag reads as) rises to it, so an
 * evicted tag can never make an old entry valid again: at worst, some entries become misses.
 */
export class MemoryCacheStore implements CacheStore {
  readonly name = 'memory';
  readonly local = true;
  private readonly clock: Clock;
  private readonly slots: LRUCache<string, Slot>;
  private readonly versions: LRUCache<string, number>;
  private sequence = 0;
  private floor = 0;

  constructor(options: MemoryCacheStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.slots = new LRUCache<string, Slot>({
      maxSize: options.maxSizeBytes ?? DEFAULT_MAX_MEMORY_BYTES,
      sizeCalculation: (slot) => slot.size,
    });
    this.versions = new LRUCache<string, number>({
      max: options.maxTags ?? 100_000,
      dispose: (version, _tag, reason) => {
        if (reason === 'evict' && version > this.floor) this.floor = version;
      },
    });
  }

  /** `fenceTags` is a hint for remote stores; in memory the entry's own fence is checked at once. */
  get(key: string, _fenceTags?: readonly string[]): Promise<CacheEntry | undefined> {
    return Promise.resolve(this.read(key));
  }

  set(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean> {
    if (!this.holds(entry.fence) || ttlMs <= 0) return Promise.resolve(false);
    const size = entrySize(key, entry);
    if (size > this.slots.maxSize) return Promise.resolve(false);
    this.slots.set(key, { entry, retainUntil: this.clock.now() + ttlMs, size });
    return Promise.resolve(true);
  }

  snapshot(tags: readonly string[]): Promise<TagSnapshot> {
    return Promise.resolve({ tags, versions: tags.map((tag) => this.version(tag)) });
  }

  invalidateTags(tags: readonly string[]): Promise<void> {
    const version = ++this.sequence;
    for (const tag of tags) this.versions.set(tag, version);
    return Promise.resolve();
  }

  delete(key: string): Promise<boolean> {
    const existed = this.read(key) !== undefined;
    this.slots.delete(key);
    this.versions.set(keyFenceTag(key), ++this.sequence);
    return Promise.resolve(existed);
  }

  clear(): Promise<void> {
    this.slots.clear();
    this.versions.clear();
    // Every tag now reads as the new floor, so fills in flight hold stale snapshots.
    this.floor = ++this.sequence;
    return Promise.resolve();
  }

  keys(pattern: string, limit: number, cursor?: string): Promise<KeyPage> {
    const matcher = globToRegExp(pattern);
    const start = cursor === undefined ? 0 : Number(cursor);
    if (!Number.isInteger(start) || start < 0) throw new RangeError(`invalid cursor "${cursor}"`);
    const keys: string[] = [];
    let index = 0;
    for (const key of this.slots.keys()) {
      if (index++ < start) continue;
      const slot = this.slots.peek(key);
      if (slot !== undefined && this.live(slot) && matcher.test(key)) keys.push(key);
      if (keys.length >= limit) break;
    }
    const next = index < this.slots.size ? String(index) : undefined;
    return Promise.resolve({ keys, cursor: next });
  }

  stats(): Promise<StoreStats> {
    return Promise.resolve({ entries: this.slots.size, sizeBytes: this.slots.calculatedSize });
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  private read(key: string): CacheEntry | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    if (!this.live(slot)) {
      this.slots.delete(key);
      return undefined;
    }
    return slot.entry;
  }

  private live(slot: Slot): boolean {
    return this.clock.now() < slot.retainUntil && this.holds(slot.entry.fence);
  }

  private version(tag: string): number {
    return this.versions.get(tag) ?? this.floor;
  }

  private holds(fence: TagSnapshot): boolean {
    const { tags, versions } = fence;
    for (let i = 0; i < tags.length; i++) {
      if (this.version(tags[i]) !== versions[i]) return false;
    }
    return true;
  }
}
