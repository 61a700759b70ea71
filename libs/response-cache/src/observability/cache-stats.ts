import { Injectable } from '@nestjs/common';
import type { RequestResult } from './metrics-sink';

export interface RouteStats {
  route: string;
  hits: number;
  misses: number;
}

/** One invalidation, for the dashboard's "recent invalidations". */
export interface InvalidationRecord {
  at: string;
  type: 'tag' | 'key' | 'clear';
  /** The tags (comma-separated) or the key; empty for a clear. */
  target: string;
}

export interface CacheFigures {
  hits: number;
  misses: number;
  hitRatio: number;
  bypasses: number;
  stale: number;
  coalesced: number;
  errors: number;
  invalidations: number;
  topKeys: { key: string; hits: number }[];
  routes: RouteStats[];
  recentInvalidations: InvalidationRecord[];
}

/** How many keys the top-K keeps (space-saving sketch: memory stays bounded, counts may over-estimate). */
const TOP_CAPACITY = 200;
/** Routes beyond this many are not tracked one by one (they are a fixed set in an app). */
const MAX_ROUTES = 1000;
/** How many invalidations the "recent" list keeps. */
const RECENT_INVALIDATIONS = 20;

/**
 * The figures of `GET /admin/cache/stats`, counted in bounded memory: totals, a
 * per-route table, and the hottest keys by a space-saving top-K (when the table is full, a new key
 * takes the place of the least counted one and inherits its count, so heavy keys always surface).
 */
@Injectable()
export class CacheStats {
  private hits = 0;
  private misses = 0;
  private bypasses = 0;
  private stale = 0;
  private errors = 0;
  private coalesced = 0;
  private invalidations = 0;
  private readonly recent: InvalidationRecord[] = [];
  private readonly routes = new Map<string, RouteStats>();
  private readonly top = new Map<string, number>();

  figures(limit = 10): CacheFigures {
    const lookups = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      hitRatio: lookups === 0 ? 0 : Math.round((this.hits / lookups) * 10_000) / 10_000,
      bypasses: this.bypasses,
      stale: this.stale,
      coalesced: this.coalesced,
      errors: this.errors,
      invalidations: this.invalidations,
      topKeys: [...this.top]
        .sort((a, b) => b[1] - a[1])
        .slice(0, limit)
        .map(([key, hits]) => ({ key, hits })),
      routes: [...this.routes.values()].sort((a, b) => b.hits + b.misses - (a.hits + a.misses)).map((r) => ({ ...r })),
      recentInvalidations: [...this.recent].reverse(),
    };
  }

  /** Stale and coalesced answers count as hits (the handler did not run for them). */
  request(result: RequestResult, route: string, key: string | undefined): void {
    switch (result) {
      case 'hit':
      case 'stale':
      case 'coalesced':
        if (result === 'stale') this.stale++;
        if (result === 'coalesced') this.coalesced++;
        this.hits++;
        this.route(route).hits++;
        if (key !== undefined) this.countKey(key);
        break;
      case 'miss':
        this.misses++;
        this.route(route).misses++;
        break;
      case 'bypass':
        this.bypasses++;
        break;
    }
  }

  invalidation(type: InvalidationRecord['type'], target: string): void {
    this.invalidations++;
    this.recent.push({ at: new Date().toISOString(), type, target: target.length > 200 ? `${target.slice(0, 200)}…` : target });
    if (this.recent.length > RECENT_INVALIDATIONS) this.recent.shift();
  }

  storeError(): void {
    this.errors++;
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
