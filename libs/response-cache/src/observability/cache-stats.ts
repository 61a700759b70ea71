import { Injectable } from '@nestjs/common';
import { CacheEventListener } from './cache-event-listener';
import { CacheEvent, CacheEvents } from './cache-events';

export interface RouteStats {
  route: string;
  hits: number;
  misses: number;
}

export interface CacheFigures {
  hits: number;
  misses: number;
  hitRatio: number;
  bypasses: number;
  stale: number;
  errors: number;
  topKeys: { key: string; hits: number }[];
  routes: RouteStats[];
}

/** How many keys the top-K keeps (space-saving sketch: memory stays bounded, counts may over-estimate). */
const TOP_CAPACITY = 200;
/** Routes beyond this many are not tracked one by one (they are a fixed set in an app). */
const MAX_ROUTES = 1000;

/**
 * The figures of `GET /admin/cache/stats`, counted from cache events in bounded memory: totals, a
 * per-route table, and the hottest keys by a space-saving top-K (when the table is full, a new key
 * takes the place of the least counted one and inherits its count, so heavy keys always surface).
 */
@Injectable()
export class CacheStats extends CacheEventListener {
  private hits = 0;
  private misses = 0;
  private bypasses = 0;
  private stale = 0;
  private errors = 0;
  private readonly routes = new Map<string, RouteStats>();
  private readonly top = new Map<string, number>();

  constructor(events: CacheEvents) {
    super(events);
  }

  figures(limit = 10): CacheFigures {
    const lookups = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      hitRatio: lookups === 0 ? 0 : Math.round((this.hits / lookups) * 10_000) / 10_000,
      bypasses: this.bypasses,
      stale: this.stale,
      errors: this.errors,
      topKeys: [...this.top]
        .sort((a, b) => b[1] - a[1])
        .slice(0, limit)
        .map(([key, hits]) => ({ key, hits })),
      routes: [...this.routes.values()].sort((a, b) => b.hits + b.misses - (a.hits + a.misses)),
    };
  }

  record(event: CacheEvent): void {
    switch (event.type) {
      case 'hit':
      case 'stale':
      case 'coalesced':
        if (event.type === 'stale') this.stale++;
        this.hits++;
        this.route(event.route).hits++;
        if (event.key !== undefined) this.countKey(event.key);
        break;
      case 'miss':
        this.misses++;
        this.route(event.route).misses++;
        break;
      case 'bypass':
        this.bypasses++;
        break;
      case 'store-error':
        this.errors++;
        break;
      default:
        break;
    }
  }

  private route(route = ''): RouteStats {
    let stats = this.routes.get(route);
    if (stats === undefined) {
      if (this.routes.size >= MAX_ROUTES) return { route, hits: 0, misses: 0 };
      stats = { route, hits: 0, misses: 0 };
      this.routes.set(route, stats);
    }
    return stats;
  }

  private countKey(key: string): void {
    const count = this.top.get(key);
    if (count !== undefined) {
      this.top.set(key, count + 1);
      return;
    }
    if (this.top.size < TOP_CAPACITY) {
      this.top.set(key, 1);
      return;
    }
    let minKey = '';
    let min = Infinity;
    for (const [k, c] of this.top) {
      if (c < min) {
        min = c;
        minKey = k;
      }
    }
    this.top.delete(minKey);
    this.top.set(key, min + 1);
  }
}
