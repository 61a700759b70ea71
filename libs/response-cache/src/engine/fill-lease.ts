import type { CacheEntry } from '../store/cache-store';
import type { StampedeLock } from '../store/stampede-lock';
import { STORE_FAILED } from './engine-entries';

/** What the lease needs of the engine. */
export interface FillLeaseHost {
  lookup(key: string, tags: readonly string[]): Promise<CacheEntry | undefined | typeof STORE_FAILED>;
  isFresh(entry: CacheEntry): boolean;
  storeError(operation: string, error: unknown): void;
}

/**
 * The cross-instance stampede lease as a fill uses it: one instance holds the lease of a cold key
 * and fills it; the others wait (bounded by `waitMs`) for its entry to land, then read it.
 */
export class FillLease {
  constructor(
    private readonly lock: StampedeLock,
    private readonly waitMs: number,
    private readonly host: FillLeaseHost,
  ) {}

  /** A token when this instance now holds the lease; undefined when another one does; null when the lock did not answer (go on without it). */
  async acquire(key: string): Promise<string | undefined | null> {
    try {
      return await this.lock.acquire(key);
    } catch (error) {
      this.host.storeError('lock', error);
      return null;
    }
  }

  /** The holder's entry once it announces that it landed; undefined if it did not land, fresh, in time. */
  async awaitFill(key: string, tags: readonly string[]): Promise<CacheEntry | undefined> {
    const landed = this.lock.waitFor(key, this.waitMs);
    // It may have landed between the refused lease and the wait: look once before waiting.
    let entry = await this.host.lookup(key, tags);
    if (entry === undefined) {
      await landed;
      entry = await this.host.lookup(key, tags);
    }
    return entry !== undefined && entry !== STORE_FAILED && this.host.isFresh(entry) ? entry : undefined;
  }

  /** Gives the lease up once `written` settles: waiters are woken when the entry is in the store, never before. */
  releaseAfter(key: string, token: string, written: Promise<boolean> | undefined): void {
    void (written ?? Promise.resolve(false))
      .then(() => this.lock.release(key, token))
      .catch((error: unknown) => this.host.storeError('unlock', error));
  }
}
