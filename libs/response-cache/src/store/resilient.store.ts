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

interface Pending {
  deadline: number;
  expire(): void;
}

/**
 * The deadlines of every store operation in flight, swept by one timer every few milliseconds
 * (instead of a timer per operation, which costs more than a hit from memory). The timer runs
 * only while operations are pending. A timeout fires at most `SWEEP_MS` late.
 */
const SWEEP_MS = 5;
const deadlines = new (class Deadlines {
  private readonly pending = new Set<Pending>();
  private timer: NodeJS.Timeout | undefined;

  add(entry: Pending): void {
    this.pending.add(entry);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), SWEEP_MS);
      this.timer.unref();
    }
  }

  /** False when the entry had already expired (or was never added). */
  delete(entry: Pending): boolean {
    return this.pending.delete(entry);
  }

  private sweep(): void {
    if (this.pending.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = performance.now();
    for (const entry of this.pending) {
      if (entry.deadline <= now) {
        this.pending.delete(entry);
        entry.expire();
      }
    }
  }
})();

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
  /**
   * False until the inner store's first connection (its `ready()`): failures before it (commands
   * refused while connecting) fail the operation but never count toward the breaker, which would
   * otherwise open for a whole cool-down at startup.
   */
  private connected: boolean;

  constructor(
    readonly inner: CacheStore,
    options: ResilienceOptions = {},
  ) {
    this.name = inner.name;
    this.timeoutMs = options.timeoutMs ?? 100;
    this.failureThreshold = options.failureThreshold ?? 5;
    this.cooldownMs = options.cooldownMs ?? 5000;
    this.clock = options.clock ?? systemClock;
    const ready = inner.ready?.();
    this.connected = ready === undefined;
    void ready?.then(
      () => (this.connected = true),
      () => undefined,
    );
  }

  /** The breaker's state, for health checks. */
  get circuit(): CircuitState {
    if (this.state === 'open' && this.clock.now() - this.openedAt >= this.cooldownMs) return 'half-open';
    return this.state;
  }

  get(key: string, fenceTags?: readonly string[]): Promise<CacheEntry | undefined> {
    return this.run('get', () => this.inner.get(key, fenceTags));
  }
  /** In-process reads (a tiered store's L1) cannot hang: passed through, untimed. */
  peek(key: string): CacheEntry | undefined {
    return this.inner.peek?.(key);
  }
  set(key: string, entry: CacheEntry, ttlMs: number): Promise<boolean> {
    return this.run('set', () => this.inner.set(key, entry, ttlMs));
  }
  snapshot(tags: readonly string[]): Promise<TagSnapshot> {
    return this.run('snapshot', () => this.inner.snapshot(tags));
  }
  /**
   * Invalidations are tried even while the circuit is open (still within the timeout): another
   * instance whose circuit closed first may already be serving from the store again, and only an
   * invalidation that lands there keeps it from serving what this write replaced.
   */
  invalidateTags(tags: readonly string[]): Promise<void> {
    return this.run('invalidateTags', () => this.inner.invalidateTags(tags), this.timeoutMs, true);
  }
  delete(key: string): Promise<boolean> {
    return this.run('delete', () => this.inner.delete(key), this.timeoutMs, true);
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
  /** Waiting for the first connection is not an operation: it is neither timed nor counted. */
  async ready(): Promise<void> {
    await this.inner.ready?.();
  }

  ping(): Promise<void> {
    return this.run('ping', () => this.inner.ping());
  }
  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }

  private run<T>(operation: string, fn: () => Promise<T>, timeoutMs = this.timeoutMs, evenIfOpen = false): Promise<T> {
    const state = this.circuit;
    if (!evenIfOpen && (state === 'open' || (state === 'half-open' && this.probing))) {
      return Promise.reject(new CircuitOpenError(`circuit open for store "${this.name}" (${operation} skipped)`));
    }
    const probe = state === 'half-open' && !evenIfOpen;
    if (probe) this.probing = true;
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        deadline: performance.now() + timeoutMs,
        expire: () => {
          this.failed(probe);
          reject(new StoreTimeoutError(`store "${this.name}" did not answer ${operation} within ${timeoutMs} ms`));
        },
      };
      deadlines.add(pending);
      let work: Promise<T>;
      try {
        work = fn();
      } catch (error) {
        work = Promise.reject(error);
      }
      work.then(
        (value) => {
          if (!deadlines.delete(pending)) return; // already timed out
          this.failures = 0;
          this.state = 'closed';
          if (probe) this.probing = false;
          resolve(value);
        },
        (error: unknown) => {
          if (!deadlines.delete(pending)) return;
          this.failed(probe);
          reject(error);
        },
      );
    });
  }

  private failed(probe: boolean): void {
    if (!this.connected) {
      if (probe) this.probing = false;
      return;
    }
    this.failures++;
    if (probe) this.probing = false;
    if (probe || this.failures >= this.failureThreshold) {
      this.state = 'open';
      this.openedAt = this.clock.now();
    }
  }
}
