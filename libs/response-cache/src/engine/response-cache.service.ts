import { Inject, Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { EdgePurger } from '../edge/edge-purger';
import { CacheSetOptions, FillOptions, FillResult, Found, Producer, STORE_FAILED, valueEntry } from './engine-entries';
import { extendFence, invalidateInOrder, readEpoch } from './fill-epoch';
import { FillLease } from './fill-lease';
import { PendingInvalidations } from './pending-invalidations';
import { hashedIdentity } from '../key/request-key';
import { CacheTelemetry } from '../observability/cache-telemetry';
import { redactSecrets } from '../observability/operation-logger';
import { Throttle } from '../observability/throttle';
import { RESPONSE_CACHE_OPTIONS } from '../response-cache.constants';
import { seconds } from '../options/option-checks';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import { CacheEntry, CacheStore, TagSnapshot, fenceHolds, keyFenceTag } from '../store/cache-store';

/**
 * The cache engine: usable without HTTP (`get`, `set`, `wrap`, `invalidateTags`, `delete`,
 * `clear`), and the layer under the interceptor (`lookup`, `fill`).
 *
 * It never lets a store failure reach the caller: reads become misses, writes are dropped,
 * and each failure is reported as a `store-error` event (logged, at most once a second).
 */
@Injectable()
export class ResponseCacheService implements OnModuleDestroy {
  private readonly logger = new Logger('ResponseCache');
  private readonly flights = new Map<string, Promise<CacheEntry | undefined>>();
  private readonly errorLog = new Throttle(1000, Date.now);
  private readonly writes = new Set<Promise<unknown>>();
  /** Invalidations the store refused (down, slow): retried until it takes them. */
  private readonly pending = new PendingInvalidations(() => this.store);
  /** The cross-instance lease of cold keys, when a `stampedeLock` is configured. */
  private readonly lease?: FillLease;

  /** @internal */
  constructor(
    @Inject(RESPONSE_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly telemetry: CacheTelemetry,
    /** The CDN or reverse proxy in front, purged by tag after the store (the module's `edge` option). */
    @Optional() private readonly edge?: EdgePurger,
  ) {
    const lock = options.stampede.lock;
    this.lease =
      lock === undefined
        ? undefined
        : new FillLease(lock, options.stampede.waitMs, {
            lookup: async (key, tags) => this.lookup(key, tags),
            isFresh: (entry) => entry.expiresAt > this.options.clock.now(),
            storeError: (operation, error) => this.storeError(operation, error),
          });
  }

  get store(): CacheStore {
    return this.options.store;
  }

  // ---- value-level API (no HTTP) ----

  /** The cached value under `key` (JSON round trip), or undefined. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    const entry = await this.lookup(key);
    if (entry === undefined || entry === STORE_FAILED || entry.expiresAt <= this.options.clock.now()) return undefined;
    return JSON.parse(entry.body) as T;
  }

  /** Stores a JSON-serializable value. Returns false when it was not stored. */
  async set<T>(key: string, value: T, options: CacheSetOptions = {}): Promise<boolean> {
    const ttlMs = this.ttlOf(options);
    const fence = await this.snapshot(key, options.tags ?? []);
    if (fence === undefined) return false;
    return this.write(key, { ...valueEntry(value, this.options.clock.now(), ttlMs), fence }, ttlMs);
  }

  /**
   * The cached value under `key`, or the result of `fn` (stored with `options`). Concurrent
   * calls for one key run `fn` once; a fill that overlaps an invalidation of its tags is not
   * stored.
   */
  async wrap<T>(key: string, fn: () => Promise<T> | T, options: CacheSetOptions = {}): Promise<T> {
    const cached = await this.lookup(key, options.tags ?? []);
    if (cached !== undefined && cached !== STORE_FAILED && cached.expiresAt > this.options.clock.now()) {
      return JSON.parse(cached.body) as T;
    }
    const ttlMs = this.ttlOf(options);
    const result = await this.fill<T>(key, options.tags ?? [], ttlMs, async () => {
      const value = await fn();
      return { value, entry: value === undefined ? undefined : valueEntry(value, this.options.clock.now(), ttlMs) };
    });
    return result.collapsed ? (JSON.parse(result.entry.body) as T) : result.value;
  }

  /**
   * Invalidates every entry carrying one of `tags`, across every instance sharing the store.
   * If the store refuses, the invalidation is kept and retried in the background until it is
   * taken (and reported): an outage must not leave entries valid that a write made stale.
   * Then, with an `edge`, purges it by the same tags: waited for at most the purge timeout,
   * retried in the background past it, never a failure of the caller.
   */
  async invalidateTags(tags: readonly string[]): Promise<boolean> {
    if (tags.length === 0) return true;
    let taken: boolean;
    try {
      await invalidateInOrder(this.store, tags);
      this.telemetry.invalidatedTags(tags);
      taken = true;
    } catch (error) {
      this.storeError('invalidateTags', error);
      this.pending.addTags(tags);
      taken = false;
    }
    // After the store: an edge miss that follows the purge must not find the old entry here.
    await this.edge?.purge(tags);
    return taken;
  }

  /**
   * `template` with `{user}` replaced as routes replace it (the user's id hashed with the
   * `identitySecret`), for invalidations outside a request: `invalidateTags([cache.userTag('inbox:{user}', id)])`.
   */
  userTag(template: string, userId: string): string {
    return template.split('{user}').join(hashedIdentity(this.options.identity.secret, 'user', userId).id);
  }

  /** Deletes one key (and fences a fill of it still in flight); retried like invalidations. */
  async delete(key: string): Promise<boolean> {
    try {
      const existed = await this.store.delete(key);
      this.telemetry.deletedKey(key);
      return existed;
    } catch (error) {
      this.storeError('delete', error);
      this.pending.addKey(key);
      return false;
    }
  }

  /** Removes every entry of this cache; retried like invalidations. */
  async clear(): Promise<boolean> {
    try {
      await this.store.clear();
      this.telemetry.cleared();
      return true;
    } catch (error) {
      this.storeError('clear', error);
      this.pending.addClear();
      return false;
    }
  }

  /** @internal Invalidations still waiting for the store to take them. */
  get pendingInvalidations(): number {
    return this.pending.size;
  }

  /** @internal Retries the invalidations the store refused; true when none is left. */
  retryPending(): Promise<boolean> {
    return this.pending.retry();
  }

  // ---- entry-level API (used by the interceptor) ----

  /**
   * @internal
   * The stored entry (fresh or not: the caller decides), undefined, or STORE_FAILED (at once when the
   * store holds it in process memory, else a promise). Passing
   * the entry's expected `tags` lets a remote store validate it in one round trip.
   */
  lookup(key: string, tags?: readonly string[]): Found | Promise<Found> {
    // An invalidation this instance acknowledged has not reached the store yet: nothing it holds
    // can be trusted until the retry lands.
    if (this.pending.active) return STORE_FAILED;
    // In process memory (the memory store, a tiered L1): no round trip, no timer, no async step.
    const store = this.store;
    const near = store.peek?.(key);
    // A local store's peek is its read: a miss there is a miss.
    if (near !== undefined || (store.local === true && store.peek !== undefined)) return near;
    return this.remoteLookup(key, tags);
  }

  private async remoteLookup(key: string, tags?: readonly string[]): Promise<Found> {
    const store = this.store;
    try {
      return await store.get(key, tags === undefined ? undefined : fenceTagsOf(key, tags));
    } catch (error) {
      this.storeError('get', error);
      return STORE_FAILED;
    }
  }

  /**
   * @internal
   * Runs `produce` once per key at a time. The first caller (the leader) snapshots the fence
   * before producing and hands the entry to the callers that joined meanwhile as soon as it has
   * it, if the entry's fence still holds then (an invalidation acknowledged after the leader's
   * handler read its data may precede a follower's arrival); the write goes on in the background. A
   * caller that arrives after that starts a flight of its own, so nobody is handed an entry that an
   * invalidation may have overtaken. A follower whose leader produced nothing storable (an error, a
   * 500, a `Set-Cookie`) or an entry overtaken since runs its own `produce`.
   */
  async fill<T>(
    key: string,
    tags: readonly string[],
    ttlMs: number,
    produce: Producer<T>,
    options: FillOptions = {},
  ): Promise<FillResult<T>> {
    const run = () => this.produceAndStore(key, tags, ttlMs, produce, options);
    const pending = this.flights.get(key);
    if (pending !== undefined) {
      const shared = await pending;
      // The leader's handler may have read before a write that was acknowledged before this caller came.
      if (shared !== undefined && (await this.stillCurrent(shared))) return { collapsed: true, entry: shared };
      return (await run()).result;
    }
    let share!: (entry: CacheEntry | undefined) => void;
    this.flights.set(key, new Promise((resolve) => (share = resolve)));
    try {
      const lease = this.lease;
      if (lease === undefined) {
        const { result } = await run();
        share(result.entry);
        return result;
      }
      // Across instances: one holds the lease and fills; the others wait for it to land.
      const token = await lease.acquire(key);
      if (token === undefined) {
        const landed = await lease.awaitFill(key, tags);
        if (landed !== undefined) {
          share(landed);
          return { collapsed: true, entry: landed };
        }
      }
      let written: Promise<boolean> | undefined;
      try {
        const filled = await run();
        written = filled.written;
        share(filled.result.entry);
        return filled.result;
      } finally {
        if (typeof token === 'string') lease.releaseAfter(key, token, written);
      }
    } finally {
      share(undefined); // no-op once shared; releases the followers when produce threw
      this.flights.delete(key);
    }
  }

  /** Resolves once every background write has settled (for orderly shutdown and tests). */
  async settle(): Promise<void> {
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
  }

  async onModuleDestroy(): Promise<void> {
    this.pending.stop();
    this.edge?.stop();
    await this.settle();
    await this.options.stampede.lock?.close?.();
    await this.store.close?.();
  }

  /** @internal Reports a store failure: an event for metrics, a log line at most once a second. */
  storeError(operation: string, error: unknown): void {
    const message = redactSecrets(error instanceof Error ? error.message : String(error));
    this.telemetry.storeError(this.store.name, operation, message);
    const held = this.errorLog.pass();
    if (held === undefined) return;
    const suppressed = held > 0 ? ` (${held} more suppressed)` : '';
    this.logger.warn(`cache store "${this.store.name}" failed on ${operation}: ${message}; serving without the cache${suppressed}`);
  }

  /**
   * @internal
   * Refreshes `key` in the background unless a fill of it is already running here (one refresh
   * per key, however many requests see the stale entry). A failing refresh leaves the stale
   * entry in place until its window ends.
   */
  refreshInBackground(key: string, tags: readonly string[], ttlMs: number, produce: Producer<unknown>, options: FillOptions = {}): void {
    if (this.flights.has(key)) return;
    this.track(
      this.fill(key, tags, ttlMs, produce, options).catch((error: unknown) => {
        this.logger.debug?.(`background refresh failed: ${error instanceof Error ? error.message : String(error)}`);
      }),
    );
  }

  /**
   * Snapshots the fence (and, when the result may name tags, the invalidation epoch), produces,
   * and starts the (fenced) write of what is storable.
   */
  private async produceAndStore<T>(
    key: string,
    tags: readonly string[],
    ttlMs: number,
    produce: Producer<T>,
    options: FillOptions,
  ): Promise<{ result: { collapsed: false; value: T; entry?: CacheEntry; written?: Promise<boolean> }; written?: Promise<boolean> }> {
    const report = (error: unknown) => this.storeError('snapshot', error);
    // The epoch must have been read before the handler runs (fill-epoch.ts); other fills skip it.
    const [before, epoch] = options.resultTags
      ? await Promise.all([this.snapshot(key, tags), readEpoch(this.store, report)])
      : [await this.snapshot(key, tags), undefined];
    const produced = await produce();
    let fence = produced.tags === undefined ? before : await extendFence(this.store, report, before, epoch, produced.tags);
    const storeKey = produced.storeKey ?? key;
    if (storeKey !== key && fence !== undefined) fence = await this.rekeyedFence(fence, key, storeKey);
    const entry = fence === undefined || produced.entry === undefined ? undefined : { ...produced.entry, fence };
    const written = entry === undefined ? undefined : this.track(this.write(storeKey, entry, produced.retainMs ?? ttlMs));
    return { result: { collapsed: false, value: produced.value, entry, written }, written };
  }

  /**
   * The fence of an entry stored under another key than its fill's: the tag versions read before
   * the handler ran, and the version of the new key's fence tag read now. A key-level delete of the
   * new key that landed before this read found nothing to delete; one after it fails the fence.
   */
  private async rekeyedFence(fence: TagSnapshot, key: string, storeKey: string): Promise<TagSnapshot | undefined> {
    const own = await this.snapshot(storeKey, []);
    if (own === undefined) return undefined;
    const old = keyFenceTag(key);
    const kept = fence.tags.map((tag, i) => [tag, fence.versions[i]] as const).filter(([tag]) => tag !== old);
    return { tags: [...kept.map(([tag]) => tag), ...own.tags], versions: [...kept.map(([, v]) => v), ...own.versions] };
  }

  /**
   * True while no tag of the entry's fence has been invalidated. When the store cannot say, the
   * followers share the entry as they did before this check (a stampede on a slow store must not
   * become one handler run per request), unless an invalidation waits for the store.
   */
  private async stillCurrent(entry: CacheEntry): Promise<boolean> {
    const { tags } = entry.fence;
    try {
      return fenceHolds(entry.fence, (await this.store.snapshot(tags)).versions.slice(0, tags.length));
    } catch (error) {
      this.storeError('snapshot', error);
      return !this.pending.active;
    }
  }

  /** The fence of a fill: the versions of its tags and of its key, read before it runs. */
  private async snapshot(key: string, tags: readonly string[]): Promise<TagSnapshot | undefined> {
    try {
      return await this.store.snapshot(fenceTagsOf(key, tags));
    } catch (error) {
      this.storeError('snapshot', error);
      return undefined;
    }
  }

  private async write(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean> {
    try {
      return await this.store.set(key, entry, ttlMs);
    } catch (error) {
      this.storeError('set', error);
      return false;
    }
  }

  private track<P extends Promise<unknown>>(promise: P): P {
    this.writes.add(promise);
    void promise.finally(() => this.writes.delete(promise));
    return promise;
  }

  private ttlOf(options: CacheSetOptions): number {
    return options.ttl === undefined ? this.options.ttlMs : seconds('ttl', options.ttl, 0.001);
  }
}

/** The tags a fill of `key` is fenced by: its own tags and the key's fence tag. */
function fenceTagsOf(key: string, tags: readonly string[]): string[] {
  return [...tags, keyFenceTag(key)];
}
