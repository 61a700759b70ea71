import { Inject, Injectable } from '@nestjs/common';
import { hashedIdentity } from '../key/request-key';
import { seconds } from '../options/option-checks';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import { RESPONSE_CACHE_OPTIONS } from '../response-cache.constants';
import { CacheEngine } from './cache-engine';
import { CacheSetOptions, STORE_FAILED, valueEntry } from './engine-entries';

/**
 * The cache without HTTP: values under keys of your own (`get`, `set`, `wrap`), and the
 * invalidations a write outside a decorated route needs (`invalidateTags`, `delete`, `clear`).
 * The same engine as the routes', with the same guarantees: concurrent `wrap`s of one key run
 * their function once, a fill that overlaps an invalidation of its tags is not stored, and a store
 * failure never reaches the caller (reads become misses, writes are dropped, invalidations the
 * store refused are retried until it takes them).
 */
@Injectable()
export class ResponseCacheService {
  /** @internal */
  constructor(
    private readonly engine: CacheEngine,
    @Inject(RESPONSE_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
  ) {}

  /** The cached value under `key` (JSON round trip), or undefined. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    const entry = await this.engine.lookup(key);
    if (entry === undefined || entry === STORE_FAILED || entry.expiresAt <= this.options.clock.now()) return undefined;
    return JSON.parse(entry.body) as T;
  }

  /** Stores a JSON-serializable value. Returns false when it was not stored. */
  async set<T>(key: string, value: T, options: CacheSetOptions = {}): Promise<boolean> {
    const ttlMs = this.ttlOf(options);
    return this.engine.put(key, valueEntry(value, this.options.clock.now(), ttlMs), options.tags ?? [], ttlMs);
  }

  /**
   * The cached value under `key`, or the result of `fn` (stored with `options`). Concurrent
   * calls for one key run `fn` once; a fill that overlaps an invalidation of its tags is not
   * stored.
   */
  async wrap<T>(key: string, fn: () => Promise<T> | T, options: CacheSetOptions = {}): Promise<T> {
    const cached = await this.engine.lookup(key, options.tags ?? []);
    if (cached !== undefined && cached !== STORE_FAILED && cached.expiresAt > this.options.clock.now()) {
      return JSON.parse(cached.body) as T;
    }
    const ttlMs = this.ttlOf(options);
    const result = await this.engine.fill<T>(key, options.tags ?? [], ttlMs, async () => {
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
   * retried in the background past it, never a failure of the caller. False when the store
   * refused (the retry is under way).
   */
  invalidateTags(tags: readonly string[]): Promise<boolean> {
    return this.engine.invalidateTags(tags);
  }

  /**
   * `template` with `{user}` replaced as routes replace it (the user's id hashed with the
   * `identity.secret`), for invalidations outside a request: `invalidateTags([cache.userTag('inbox:{user}', id)])`.
   */
  userTag(template: string, userId: string): string {
    return template.split('{user}').join(hashedIdentity(this.options.identity.secret, 'user', userId).id);
  }

  /** Deletes one key (and fences a fill of it still in flight); retried like invalidations. */
  delete(key: string): Promise<boolean> {
    return this.engine.delete(key);
  }

  /** Removes every entry of this cache; retried like invalidations. */
  clear(): Promise<boolean> {
    return this.engine.clear();
  }

  private ttlOf(options: CacheSetOptions): number {
    return options.ttl === undefined ? this.options.ttlMs : seconds('ttl', options.ttl, 0.001);
  }
}
