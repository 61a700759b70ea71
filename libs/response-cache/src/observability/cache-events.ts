import { Injectable } from '@nestjs/common';

export type CacheEventType = 'hit' | 'miss' | 'bypass' | 'stale' | 'coalesced' | 'invalidation' | 'store-error' | 'warm';

/** One cache operation. Never carries a body, a credential or a raw identity. */
export interface CacheEvent {
  type: CacheEventType;
  /** Route pattern (`/api/users/:id`), never the raw URL. */
  route?: string;
  /** Cache key (identities inside it are hashed). */
  key?: string;
  /** Bypass reason, the invalidation kind (`tag`, `key`, `clear`), or the stale kind. */
  reason?: string;
  /** Invalidated tags. */
  tags?: readonly string[];
  /** Store operation that failed. */
  operation?: string;
  /** Store name. */
  store?: string;
  /** Error message of a store failure. */
  error?: string;
  /** Time spent in the cache layer and handler, for requests. */
  durationMs?: number;
}

export type CacheListener = (event: CacheEvent) => void;

/**
 * A synchronous fan-out of cache events to listeners (metrics, logs, the admin event stream).
 * `active` is false while nobody listens, so the hit path builds no event object at all.
 */
@Injectable()
export class CacheEvents {
  private listeners: CacheListener[] = [];

  get active(): boolean {
    return this.listeners.length > 0;
  }

  /** Adds a listener; returns a function that removes it. */
  subscribe(listener: CacheListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  emit(event: CacheEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A failing listener must never break a request.
      }
    }
  }
}
