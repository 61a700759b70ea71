import { CallHandler, HttpException } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { CacheEngine } from '../engine/cache-engine';
import type { FillResult } from '../engine/engine-entries';
import type { BypassReason } from '../http/cache-status';
import type { HttpExchange } from '../http/http-exchange';
import { snapshotHeaders } from '../http/representation';
import { CacheHits } from '../hit/cache-hits';
import { resolveResultTags } from '../key/tags';
import { CacheTelemetry } from '../observability/cache-telemetry';
import type { RequestResult } from '../observability/metrics-sink';
import type { TagErrorLog } from '../observability/tag-error-log';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import { CachePlan, learnVary, storableStatuses } from '../plan/route-plan';
import { responseRefusal } from '../policy/cache-policy';
import type { CacheRequestContext } from '../response-cache.options';
import type { CacheEntry } from '../store/cache-store';

/**
 * What the interceptor does when the lookup found no fresh entry: a stale answer with its
 * background refresh (RFC 5861), or a fill: the handler runs once per key, its answer is drafted
 * as an entry and stored behind its fence, and the request is answered from it (or from a stale
 * entry when the origin fails, or uncached when the response may not be stored).
 */
export class CacheMisses {
  constructor(
    private readonly options: ResolvedCacheOptions,
    private readonly cache: CacheEngine,
    private readonly hits: CacheHits,
    private readonly telemetry: CacheTelemetry,
    private readonly tagErrors: TagErrorLog,
  ) {}

  /** RFC 5861: answer at once from the stale entry; one refresh per key runs meanwhile. */
  revalidate(
    next: CallHandler,
    exchange: HttpExchange,
    plan: CachePlan,
    stale: CacheEntry,
    { key, tags, ctx }: Pick<Miss, 'key' | 'tags' | 'ctx'>,
    started: number,
    now: number,
  ): unknown {
    const ttl = Math.floor((stale.expiresAt - now) / 1000);
    const body = this.hits.representation.represent(exchange, plan, stale, 'STALE', this.hits.status.hit(ttl), now);
    const before = snapshotHeaders(exchange);
    const refresh = async () => {
      // The stale answer has been sent: the response's status and headers are the cache's own
      // now, so the refresh keeps the stale entry's and checks only that the value is storable.
      const value = await lastValueFrom(next.handle(), { defaultValue: undefined });
      const drafted = await this.hits.representation.draft(exchange, value, plan, before, stale);
      return { value, ...this.withResultTags(plan, ctx, value, drafted) };
    };
    this.cache.refreshInBackground(key, tags, plan.retentionMs, refresh, { resultTags: plan.resultTags !== undefined });
    this.report('stale', exchange, key, started, 'stale-while-revalidate');
    return body;
  }

  /** A miss: the handler runs once per key (the others wait for its entry), and its answer is stored. */
  async fill(next: CallHandler, exchange: HttpExchange, plan: CachePlan, miss: Miss): Promise<unknown> {
    // Set before the handler runs, so that an error response says what happened too.
    this.hits.representation.status(exchange, 'MISS', this.hits.status.miss);
    const outcome: Outcome = {};
    const produce = this.producer(next, exchange, plan, miss, outcome);
    const result = await this.cache.fill(miss.key, miss.tags, plan.retentionMs, produce, { resultTags: plan.resultTags !== undefined });
    return this.answerFill(next, exchange, plan, miss, result, outcome);
  }

  /** The fill's producer: the handler's value, drafted as an entry when it may be stored. */
  private producer(next: CallHandler, exchange: HttpExchange, plan: CachePlan, miss: Miss, outcome: Outcome) {
    const { fallback, target } = miss;
    const representation = this.hits.representation;
    const before = snapshotHeaders(exchange);
    return async () => {
      let value: unknown;
      try {
        value = await lastValueFrom(next.handle(), { defaultValue: undefined });
      } catch (error) {
        const code = error instanceof HttpException ? error.getStatus() : 500;
        if (fallback === undefined || code < 500) throw error;
        outcome.failedWith = code;
        return { value: undefined };
      }
      if (fallback !== undefined && exchange.status() >= 500) {
        outcome.failedWith = exchange.status();
        return { value: undefined };
      }
      const refused = responseRefusal(exchange, plan.scope, storableStatuses(exchange, plan, this.options.clock.now()), value);
      outcome.refused = refused;
      const drafted = refused === undefined ? await representation.draft(exchange, value, plan, before) : undefined;
      const tagged = this.withResultTags(plan, miss.ctx, value, drafted);
      if (tagged?.entry.variant === undefined) return { value, ...tagged };
      // The response varies on request headers: the key holds them from now on, this entry included.
      const learned = learnVary(plan, target, representation.variantNames(tagged.entry.headers.vary, plan));
      return { value, ...tagged, storeKey: learned ? miss.rekey() : undefined };
    };
  }

  /** The answer to a filled miss: stale instead of an error, the leader's entry, uncached, or stored. */
  private async answerFill(
    next: CallHandler,
    exchange: HttpExchange,
    plan: CachePlan,
    miss: Miss,
    result: FillResult<unknown>,
    outcome: Outcome,
  ) {
    const { key, fallback, started } = miss;
    const { representation, status } = this.hits;
    if (outcome.failedWith !== undefined && fallback !== undefined)
      return this.staleOnError(exchange, plan, miss, fallback, outcome.failedWith);
    if (result.collapsed && !representation.matchesVariant(exchange, result.entry, plan)) {
      // The leader's response varies on a header this request differs in: run the handler for it.
      return representation.uncached(exchange, plan, await lastValueFrom(next.handle(), { defaultValue: undefined }));
    }
    if (result.collapsed) {
      this.report('coalesced', exchange, key, started);
      return representation.represent(exchange, plan, result.entry, 'MISS', status.collapsed);
    }
    if (outcome.refused !== undefined) {
      representation.status(exchange, 'BYPASS', status.bypass(outcome.refused));
      this.report('bypass', exchange, key, started, outcome.refused);
      return representation.uncached(exchange, plan, result.value);
    }
    this.report('miss', exchange, key, started);
    // Produced, but the fence could not be read (store down): served, not stored.
    if (result.entry === undefined) return representation.uncached(exchange, plan, result.value);
    miss.learn();
    // The edge keeps only what the store kept: a fill an invalidation overtook stays off it too.
    if (this.hits.edge.enabled && (await result.written) !== false) this.hits.edge.mark(exchange, plan, miss.tags);
    return representation.represent(exchange, plan, result.entry, 'MISS', status.stored);
  }

  /** RFC 5861 stale-if-error: the stale entry instead of the origin's error. */
  private staleOnError(exchange: HttpExchange, plan: CachePlan, miss: Miss, fallback: CacheEntry, failedWith: number) {
    const now = this.options.clock.now();
    const ttl = Math.floor((fallback.expiresAt - now) / 1000);
    this.report('stale', exchange, miss.key, miss.started, 'stale-if-error');
    return this.hits.representation.represent(exchange, plan, fallback, 'STALE', this.hits.status.staleOnError(failedWith, ttl), now);
  }

  /**
   * A drafted entry with the tags of its result (`resultTags`); none when the function fails
   * (reported): the response is served, not stored.
   */
  private withResultTags<D extends object>(plan: CachePlan, ctx: CacheRequestContext, value: unknown, drafted: D | undefined) {
    if (drafted === undefined || plan.resultTags === undefined) return drafted;
    try {
      return { ...drafted, tags: resolveResultTags(plan.resultTags, value, ctx) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.tagErrors.report(`resultTags failed on ${plan.label}: ${message}; the response was served without the cache`);
      return undefined;
    }
  }

  private report(result: RequestResult, exchange: HttpExchange, key: string | undefined, started: number, reason?: string): void {
    this.telemetry.request(result, exchange.route, key, started, reason);
  }
}

/** What the producer saw: why the response may not be stored, or the origin's error status a stale entry stands in for. */
interface Outcome {
  refused?: BypassReason;
  failedWith?: number;
}

/** A miss: the request's key and tags, and what the fill needs besides. */
export interface Miss {
  key: string;
  tags: string[];
  ctx: CacheRequestContext;
  target: string;
  fallback: CacheEntry | undefined;
  started: number;
  learn: () => void;
  /** The request's key as the route's keyed headers stand now (after a response's `Vary` was learned). */
  rekey: () => string | undefined;
}
