import { Inject, Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { EdgePurger } from '../edge/edge-purger';
import { DraftEntry, FillOptions, FillResult, Found, Producer, STORE_FAILED } from './engine-entries';
import { extendFence, invalidateInOrder, readEpoch } from './fill-epoch';
import { FillLease } from './fill-lease';
import { PendingInvalidations } from './pending-invalidations';
import { CacheTelemetry } from '../observability/cache-telemetry';
import { RESPONSE_CACHE_OPTIONS } from '../response-cache.constants';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import { CacheEntry, CacheStore, TagSnapshot, fenceHolds } from '../store/cache-store';
import { fenceTagsOf, rekeyFence } from './fences';

/**
 * The cache engine, internal: what the interceptor, the fast lane, the admin API and the public
 * `ResponseCacheService` run on, each resolving it once at startup.
 *
 * It never lets a store failure reach the caller: reads become misses, writes are dropped,
 * and each failure is reported as a `store-error` event (logged, at most once a second).
 */
@Injectable()
export class CacheEngine implements OnModuleDestroy {
  private readonly logger = new Logger('ResponseCache');
  private readonly flights = new Map<string, Promise<CacheEntry | undefined>>();
  private readonly writes = new Set<Promise<unknown>>();
  /** Invalidations the store refused (down, slow): retried until it takes them. */
  private readonly pending = new PendingInvalidations(() => this.store);
  /** The cross-instance lease of cold keys, when a `stampede.lock` is configured. */
  private readonly lease?: FillLease;

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

  private get store(): CacheStore {
    return this.options.store;
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
    const taken = await this.invalidate(
      'invalidateTags',
      async () => (await invalidateInOrder(this.store, tags), this.telemetry.invalidatedTags(tags), true),
      () => this.pending.addTags(tags),
    );
    // After the store: an edge miss that follows the purge must not find the old entry here.
    await this.edge?.purge(tags);
    return taken;
  }

  /** Deletes one key (and fences a fill of it still in flight); retried like invalidations. */
  delete(key: string): Promise<boolean> {
    const run = async () => {
      const existed = await this.store.delete(key);
      this.telemetry.deletedKey(key);
      return existed;
    };
    return this.invalidate('delete', run, () => this.pending.addKey(key));
  }

  /** Removes every entry of this cache; retried like invalidations. */
  clear(): Promise<boolean> {
    return this.invalidate(
      'clear',
      async () => (await this.store.clear(), this.telemetry.cleared(), true),
      () => this.pending.addClear(),
    );
  }

  /** Runs an invalidation; one the store refuses is kept (`keep`) for the retry, and answers false. */
  private async invalidate(operation: string, run: () => Promise<boolean>, keep: () => void): Promise<boolean> {
    try {
      return await run();
    } catch (error) {
      this.storeError(operation, error);
      keep();
      return false;
    }
  }

  /** Invalidations still waiting for the store to take them. */
  get pendingInvalidations(): number {
    return this.pending.size;
  }

  /** Retries the invalidations the store refused; true when none is left. */
  retryPending(): Promise<boolean> {
    return this.pending.retry();
  }

  /** Stores `draft` under `key`, fenced by `tags` as read now. False when it was not stored. */
  async put(key: string, draft: DraftEntry, tags: readonly string[], ttlMs: number): Promise<boolean> {
    const fence = await this.snapshot(key, tags);
    return fence !== undefined && this.write(key, { ...draft, fence }, ttlMs);
  }

  /**
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
    const pending = this.flights.get(key);
    if (pending === undefined) return this.lead(key, tags, ttlMs, produce, options);
    const shared = await pending;
    // The leader's handler may have read before a write that was acknowledged before this caller came.
    if (shared !== undefined && (await this.stillCurrent(shared))) return { collapsed: true, entry: shared };
    return (await this.produceAndStore(key, tags, ttlMs, produce, options)).result;
  }

  /** The leader's fill: one per key at a time here, and with a `stampede.lock`, across instances. */
  private async lead<T>(
    key: string,
    tags: readonly string[],
    ttlMs: number,
    produce: Producer<T>,
    options: FillOptions,
  ): Promise<FillResult<T>> {
    let share!: (entry: CacheEntry | undefined) => void;
    this.flights.set(key, new Promise((resolve) => (share = resolve)));
    const lease = this.lease;
    let token: string | null | undefined;
    let written: Promise<boolean> | undefined;
    try {
      // Across instances: one holds the lease and fills; the others wait for it to land.
      if (lease !== undefined) token = await lease.acquire(key);
      if (lease !== undefined && token === undefined) {
        const landed = await lease.awaitFill(key, tags);
        if (landed !== undefined) {
          share(landed);
          return { collapsed: true, entry: landed };
        }
      }
      const filled = await this.produceAndStore(key, tags, ttlMs, produce, options);
      written = filled.written;
      share(filled.result.entry);
      return filled.result;
    } finally {
      if (typeof token === 'string') lease?.releaseAfter(key, token, written);
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

  /** Reports a store failure (counted, an event, a log line at most once a second); the caller goes on without the store. */
  private storeError(operation: string, error: unknown): void {
    this.telemetry.storeError(this.store.name, operation, error);
  }

  /**
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
    if (storeKey !== key && fence !== undefined) {
      const own = await this.snapshot(storeKey, []);
      fence = own && rekeyFence(fence, key, own);
    }
    const entry = fence === undefined || produced.entry === undefined ? undefined : { ...produced.entry, fence };
    const written = entry === undefined ? undefined : this.track(this.write(storeKey, entry, produced.retainMs ?? ttlMs));
    return { result: { collapsed: false, value: produced.value, entry, written }, written };
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
}
