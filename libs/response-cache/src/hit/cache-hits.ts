import { Inject, Injectable } from '@nestjs/common';
import { Found, STORE_FAILED } from '../engine/engine-entries';
import { CacheEngine } from '../engine/cache-engine';
import { CacheStatus } from '../http/cache-status';
import type { HttpExchange } from '../http/http-exchange';
import { Representation, RepresentationPlan } from '../http/representation';
import { EdgeHeaders, EdgePlan } from '../http/edge-headers';
import { RESPONSE_CACHE_OPTIONS } from '../response-cache.constants';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import type { CacheEntry } from '../store/cache-store';

export type { Found };

interface HandedOn {
  key: string;
  found: Found;
}

/**
 * The one hit path: how a request's entry is found and how a hit is written, for the fast lane
 * and the interceptor alike. A lookup the lane made for a request it could not answer is kept
 * (by request, in a weak map) for the interceptor, so that a hung store costs a request one
 * timeout, not two.
 */
@Injectable()
export class CacheHits {
  readonly representation: Representation;
  readonly status: CacheStatus;
  /** What the CDN or reverse proxy in front may cache (the module's `edge` option). */
  readonly edge: EdgeHeaders;
  private readonly handedOn = new WeakMap<object, HandedOn>();

  constructor(
    @Inject(RESPONSE_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly cache: CacheEngine,
  ) {
    this.representation = new Representation(options);
    this.status = new CacheStatus(options.cacheStatusName);
    this.edge = new EdgeHeaders(options.edge, options.clock);
  }

  /** The entry stored under `key`: the lane's lookup of this very request if it made one, else the store's. */
  find(request: object, key: string, tags: readonly string[]): Found | Promise<Found> {
    const earlier = this.handedOn.get(request);
    if (earlier !== undefined && earlier.key === key) {
      this.handedOn.delete(request);
      return earlier.found;
    }
    return this.cache.lookup(key, tags);
  }

  /** The lane could not answer `request` from what it found: the interceptor will not look again. */
  handOn(request: object, key: string, found: Found): void {
    this.handedOn.set(request, { key, found });
  }

  /** `found` when it is fresh and of this request's variant; otherwise undefined. */
  fresh(exchange: HttpExchange, plan: RepresentationPlan, found: Found, now: number): CacheEntry | undefined {
    if (found === undefined || found === STORE_FAILED || found.expiresAt <= now) return undefined;
    return this.representation.matchesVariant(exchange, found, plan) ? found : undefined;
  }

  /** Writes a hit of a fresh entry (headers, status, validators, `Age`, the edge's) and returns the body to send. */
  hit(exchange: HttpExchange, plan: RepresentationPlan & EdgePlan, entry: CacheEntry, now: number, tags: readonly string[]): unknown {
    const ttl = Math.floor((entry.expiresAt - now) / 1000);
    this.edge.mark(exchange, plan, tags);
    return this.representation.represent(exchange, plan, entry, 'HIT', this.status.hit(ttl), now);
  }

  get now(): number {
    return this.options.clock.now();
  }
}
