import { Clock, systemClock } from '../clock';
import { ResponseCacheError } from '../response-cache.errors';
import { CacheEntry, CacheStore, KeyPage, StoreStats, TagSnapshot } from './cache-store';

export interface ResilienceOptions {
  /** Bound on any single store operation, in ms. Default 100. */
  timeoutMs?: number;
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long the circuit stays open before one probe is let through, in ms. Default 5000. */
  cooldownMs?: number;
  clock?: Clock;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export class StoreTimeoutError extends ResponseCacheError {}
export class CircuitOpenError extends ResponseCacheError {}

/**
 * Wraps a store so that it can never hold a request up: every operation has a timeout, and a
 * circuit breaker opens after `failureThreshold` consecutive failures, failing fast (the cache is
 * skipped) until `cooldownMs` has passed; then one probe goes through, and its outcome closes
 * the circuit or opens it again.
 */
export class ResilientCacheStore implements CacheStore {
  readonly name: string;
  private readonly timeoutMs: number;
  private readonly failureThreshold: number;
  private readonly cooldownMs: number;
  private readonly clock: Clock;
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private state: CircuitState = 'closed';

  constructor(
    readonly inner: CacheStore,
    options: ResilienceOptions = {},
  ) {
    this.name = inner.name;
    this.timeoutMs = options.timeoutMs ?? 100;
    this.failureThreshold = options.failureThreshold ?? 5;
    this.cooldownMs = options.cooldownMs ?? 5000;
    this.clock = options.clock ?? systemClock;
  }

  /** The breaker's state, for health checks. */
  get circuit(): CircuitState {
    if (this.state === 'open' && this.clock.now() - this.openedAt >= this.cooldownMs) return 'half-open';
    return this.state;
  }

  get(key: string, fenceTags?: readonly string[]): Promise<CacheEntry | undefined> {
    return this.run('get', () => this.inner.get(key, fenceTags));
  }
  set(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean> {
    return this.run('set', () => this.inner.set(key, entry, ttlMs));
  }
  snapshot(tags: readonly string[]): Promise<TagSnapshot> {
    return this.run('snapshot', () => this.inner.snapshot(tags));
  }
  invalidateTags(tags: readonly string[]): Promise<void> {
    return this.run('invalidateTags', () => this.inner.invalidateTags(tags));
  }
  delete(key: string): Promise<boolean> {
    return this.run('delete', () => this.inner.delete(key));
  }
  /** Clearing scans the whole prefix: it gets 50 times the usual timeout. */
  clear(): Promise<void> {
    return this.run('clear', () => this.inner.clear(), this.timeoutMs * 50);
  }
  keys(pattern: string, limit: number, cursor?: string): Promise<KeyPage> {
    return this.run('keys', () => this.inner.keys(pattern, limit, cursor), this.timeoutMs * 10);
  }
  stats(): Promise<StoreStats> {
    return this.run('stats', () => this.inner.stats(), this.timeoutMs * 50);
  }
  ping(): Promise<void> {
    return this.run('ping', () => this.inner.ping());
  }
  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }

  private async run<T>(operation: string, fn: () => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    const state = this.circuit;
    if (state === 'open' || (state === 'half-open' && this.probing)) {
      throw new CircuitOpenError(`circuit open for store "${this.name}" (${operation} skipped)`);
    }
    const probe = state === 'half-open';
    if (probe) this.probing = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const work = fn();
      const result = await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            work.catch(() => undefined); // it may still fail later; nobody is waiting for it
            reject(new StoreTimeoutError(`store "${this.name}" did not answer ${operation} within ${timeoutMs} ms`));
          }, timeoutMs);
        }),
      ]);
      this.failures = 0;
      this.state = 'closed';
      return result;
    } catch (error) {
      this.failures++;
      if (probe || this.failures >= this.failureThreshold) {
        this.state = 'open';
        this.openedAt = this.clock.now();
      }
      throw error;
    } finally {
      clearTimeout(timer);
      if (probe) this.probing = false;
    }
  }
}
