import type { CacheStore } from '../store/cache-store';
import { invalidateInOrder } from './fill-epoch';

const RETRY_INTERVAL_MS = 250;
/** Past this many refused invalidations, the retry clears the cache instead of replaying them. */
const MAX_PENDING_INVALIDATIONS = 10_000;

/**
 * Invalidations the store refused (down, slow), replayed every 250 ms until it takes them. While
 * any is waiting, nothing the store holds can be trusted (`active`): an acknowledged write must
 * never be followed by old data.
 */
export class PendingInvalidations {
  private readonly tags = new Set<string>();
  private readonly keys = new Set<string>();
  private clearAll = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly store: () => CacheStore) {}

  /** True while an invalidation waits for the store. */
  get active(): boolean {
    return this.timer !== undefined;
  }

  get size(): number {
    return this.tags.size + this.keys.size + (this.clearAll ? 1 : 0);
  }

  addTags(tags: readonly string[]): void {
    for (const tag of tags) this.tags.add(tag);
    this.schedule();
  }

  addKey(key: string): void {
    this.keys.add(key);
    this.schedule();
  }

  addClear(): void {
    this.clearAll = true;
    this.schedule();
  }

  /** Replays what waits; true when nothing is left. Throws while the store still refuses. */
  async retry(): Promise<boolean> {
    const store = this.store();
    if (this.clearAll || this.tags.size + this.keys.size > MAX_PENDING_INVALIDATIONS) {
      // Too many to replay one by one (or a clear was asked for): a clear covers them all.
      await store.clear();
      this.clearAll = false;
      this.tags.clear();
      this.keys.clear();
      return true;
    }
    if (this.tags.size > 0) {
      const batch = [...this.tags];
      await invalidateInOrder(store, batch);
      for (const tag of batch) this.tags.delete(tag);
    }
    for (const key of [...this.keys]) {
      await store.delete(key);
      this.keys.delete(key);
    }
    return this.size === 0;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.retry().then(
        (done) => {
          if (done) this.stop();
        },
        () => undefined, // still failing: try again at the next tick
      );
    }, RETRY_INTERVAL_MS);
    this.timer.unref();
  }
}
