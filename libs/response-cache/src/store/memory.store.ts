import { LRUCache } from 'lru-cache';
import { Clock, systemClock } from '../clock';
import { CacheEntry, CacheStore, KeyPage, StoreStats, TagSnapshot, entrySize, keyFenceTag } from './cache-store';
import { globMatcher } from './glob';

export interface MemoryCacheStoreOptions {
  /** Bound on the bytes of stored entries (key, body, headers, fence). Default 100 MiB. */
  maxSizeBytes?: number;
  /**
   * Bound on remembered tag versions (tags, request URIs and keys that stored entries depend on).
   * An evicted version costs the entries that depend on it (they become misses), nothing else.
   * Default 100 000.
   */
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

/** A copy with an ArrayBuffer of its own (never from Node's shared pool). */
function ownCopy(buffer: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(buffer.length);
  buffer.copy(copy);
  return copy;
}

export const DEFAULT_MAX_MEMORY_BYTES = 100 * 1024 * 1024;

/**
 * In-process store on lru-cache, bounded in bytes. Expiry is checked against the injected
 * clock on read, so tests move time instead of sleeping.
 *
 * Tag versions come from one monotonic sequence, so a version is never issued twice. They live
 * in a bounded LRU of their own. A fill's snapshot creates the versions it needs; invalidating a
 * tag that no entry depends on (a write to a URL never read) records nothing. A version that is
 * missing (evicted, cleared) is unknown, and an entry that depends on it is a miss: eviction never
 * makes an old entry valid again, and losing one version costs only its own entries.
 */
export class MemoryCacheStore implements CacheStore {
  readonly name = 'memory';
  readonly local = true;
  private readonly clock: Clock;
  private readonly slots: LRUCache<string, Slot>;
  private readonly versions: LRUCache<string, number>;
  private sequence = 0;

  constructor(options: MemoryCacheStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.slots = new LRUCache<string, Slot>({
      maxSize: options.maxSizeBytes ?? DEFAULT_MAX_MEMORY_BYTES,
      sizeCalculation: (slot) => slot.size,
    });
    this.versions = new LRUCache<string, number>({ max: options.maxTags ?? 100_000 });
  }

  /** `fenceTags` is a hint for remote stores; in memory the entry's own fence is checked at once. */
  get(key: string, _fenceTags?: readonly string[]): Promise<CacheEntry | undefined> {
    return Promise.resolve(this.read(key));
  }

  peek(key: string): CacheEntry | undefined {
    return this.read(key);
  }

  set(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean> {
    if (!this.holds(entry.fence) || ttlMs <= 0) return Promise.resolve(false);
    // A gzip buffer that shares its memory (a slice of zlib's output chunk, or a small copy in
    // Node's pooled slab next to such chunks) would keep all of it alive: keep one of its own,
    // so that the bound counts what is held.
    const own =
      entry.gzip !== undefined && entry.gzip.byteLength !== entry.gzip.buffer.byteLength ? { ...entry, gzip: ownCopy(entry.gzip) } : entry;
    const size = entrySize(key, own);
    if (size > this.slots.maxSize) return Promise.resolve(false);
    this.slots.set(key, { entry: own, retainUntil: this.clock.now() + ttlMs, size });
    return Promise.resolve(true);
  }

  snapshot(tags: readonly string[]): Promise<TagSnapshot> {
    return Promise.resolve({ tags, versions: tags.map((tag) => this.version(tag)) });
  }

  /** A tag without a version has no entry depending on it: nothing to record. */
  invalidateTags(tags: readonly string[]): Promise<void> {
    for (const tag of tags) this.bump(tag);
    return Promise.resolve();
  }

  delete(key: string): Promise<boolean> {
    const existed = this.read(key) !== undefined;
    this.slots.delete(key);
    this.bump(keyFenceTag(key));
    return Promise.resolve(existed);
  }

  clear(): Promise<void> {
    this.slots.clear();
    // Every version is now unknown: fills in flight hold snapshots that no longer hold.
    this.versions.clear();
    return Promise.resolve();
  }

  keys(pattern: string, limit: number, cursor?: string): Promise<KeyPage> {
    const matches = globMatcher(pattern);
    const start = cursor === undefined ? 0 : Number(cursor);
    if (!Number.isInteger(start) || start < 0) throw new RangeError(`invalid cursor "${cursor}"`);
    const keys: string[] = [];
    let index = 0;
    for (const key of this.slots.keys()) {
      if (index++ < start) continue;
      const slot = this.slots.peek(key);
      if (slot !== undefined && this.live(slot) && matches(key)) keys.push(key);
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

  /** The current version of `tag`, made now if it has none (snapshots only). */
  private version(tag: string): number {
    let version = this.versions.get(tag);
    if (version === undefined) this.versions.set(tag, (version = ++this.sequence));
    return version;
  }

  private bump(tag: string): void {
    if (this.versions.has(tag)) this.versions.set(tag, ++this.sequence);
  }

  /** True while every version in `fence` is current; an unknown (missing) version never holds. */
  private holds(fence: TagSnapshot): boolean {
    const { tags, versions } = fence;
    for (let i = 0; i < tags.length; i++) {
      if (this.versions.get(tags[i]) !== versions[i]) return false;
    }
    return true;
  }
}
