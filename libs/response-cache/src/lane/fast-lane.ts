import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { LRUCache } from 'lru-cache';
import { REFRESH_HEADER } from '../engine/cache-warmer.service';
import { STORE_FAILED } from '../engine/engine-entries';
import { ResponseCacheService } from '../engine/response-cache.service';
import { CacheStatus } from '../http/cache-status';
import { httpExchange } from '../http/http-exchange';
import { Representation } from '../http/representation';
import { CachePlan, requestKey } from '../interceptor/route-plan';
import { targetOf } from '../interceptor/write-invalidation';
import { CacheTelemetry } from '../observability/cache-telemetry';
import { LANE_REASON } from '../observability/metrics-sink';
import { requestRefusal } from '../policy/cache-policy';
import { RESPONSE_CACHE_OPTIONS } from '../response-cache.constants';
import type { ResolvedCacheOptions } from '../response-cache.options';
import type { CacheEntry } from '../store/cache-store';
import { installLane } from './lane-install';

/**
 * Where the lane leaves its lookup on a request it hands on to Nest, so that the interceptor does
 * not look the same key up again (a hung store then costs a request one timeout, not two).
 */
export const LANE_LOOKUP = Symbol('response-cache:lane-lookup');

/** A lookup the lane made for a request it did not answer. */
export interface LaneLookup {
  key: string;
  found: CacheEntry | undefined | typeof STORE_FAILED;
}

/** How many request targets the lane knows at most (the most recently learned stay). */
const MAX_TARGETS = 10_000;

/** What the lane knows of a request target, learned when the interceptor answered it. */
interface LaneTarget {
  plan: CachePlan;
  /** The fence tags its entries carry (so that a remote store validates a hit in one round trip). */
  tags: readonly string[];
  /** The route pattern, for metrics and logs. */
  route: string;
}

/**
 * The fast lane (`fastLane: true`): answers hits before Nest routes the request, from the same
 * entries, with the same representation as the interceptor, for the request targets the
 * interceptor has answered on eligible routes (see `CachePlan.lane`). Anything it cannot answer
 * exactly as the interceptor would (an unknown target, a miss, a stale entry, another variant,
 * a store failure) goes on to Nest untouched.
 */
@Injectable()
export class FastLane implements OnModuleInit {
  private readonly targets = new LRUCache<string, LaneTarget>({ max: MAX_TARGETS });
  private readonly representation: Representation;
  private readonly status: CacheStatus;

  /** @internal */
  constructor(
    @Inject(RESPONSE_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly cache: ResponseCacheService,
    private readonly telemetry: CacheTelemetry,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    this.representation = new Representation(options);
    this.status = new CacheStatus(options.cacheStatusName);
  }

  onModuleInit(): void {
    if (!this.options.fastLane) return;
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter === undefined || !installLane(adapter, (request, response) => this.serve(request, response))) {
      new Logger('ResponseCache').warn(
        'fastLane is on, but the app has no Express or Fastify HTTP adapter: hits go through the interceptor.',
      );
    }
  }

  /** @internal The interceptor answered `target` on a lane-eligible route: the lane may answer it from now on. */
  learn(target: string, plan: CachePlan, tags: readonly string[], route: string): void {
    if (!this.targets.has(target)) this.targets.set(target, { plan, tags, route });
  }

  /** Number of request targets the lane can answer. */
  get size(): number {
    return this.targets.size;
  }

  /**
   * Answers the request from a fresh entry, as the interceptor would; false (nothing sent) when it
   * cannot. `request` and `response` are the platform's (Fastify's request and reply, Express's).
   */
  async serve(request: unknown, response: unknown): Promise<boolean> {
    const started = performance.now();
    const options = this.options;
    const exchange = httpExchange(request, response);
    if (!options.enabled || requestRefusal(exchange, 'public', options.bypassQueryParam) !== undefined) return false;
    if (exchange.headers[REFRESH_HEADER] !== undefined) return false;
    const target = targetOf(options, exchange);
    const known = target === undefined ? undefined : this.targets.get(target);
    if (target === undefined || known === undefined) return false;
    const plan = known.plan;
    const key = requestKey(options, exchange, plan, target);
    if (key === undefined) return false;
    const found = await this.cache.lookup(key, known.tags);
    const now = options.clock.now();
    // Misses, other variants, stale entries (and their refresh) are the interceptor's.
    if (
      found === undefined ||
      found === STORE_FAILED ||
      found.expiresAt <= now ||
      !this.representation.matchesVariant(exchange, found, plan)
    ) {
      (request as Record<symbol, LaneLookup>)[LANE_LOOKUP] = { key, found };
      return false;
    }
    const ttl = Math.floor((found.expiresAt - now) / 1000);
    const body = this.representation.represent(exchange, plan, found, 'HIT', this.status.hit(ttl), now);
    this.telemetry.request('hit', known.route, key, started, LANE_REASON);
    await this.adapterHost!.httpAdapter.reply(response, body);
    return true;
  }
}
