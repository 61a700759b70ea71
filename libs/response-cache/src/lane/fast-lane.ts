import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { AbstractHttpAdapter, HttpAdapterHost } from '@nestjs/core';
import { REFRESH_HEADER } from '../engine/cache-warmer.service';
import { HttpExchange, httpExchange } from '../http/http-exchange';
import { CacheHits, Found } from '../hit/cache-hits';
import { keyTarget, requestKey } from '../key/request-key';
import { CacheTelemetry } from '../observability/cache-telemetry';
import { LANE_REASON } from '../observability/metrics-sink';
import { LearnedTarget, LearnedTargets } from '../plan/learned-targets';
import { keyedHeaders } from '../plan/route-plan';
import { requestRefusal } from '../policy/cache-policy';
import { RESPONSE_CACHE_OPTIONS } from '../response-cache.constants';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import { installLane } from './lane-install';

/**
 * The fast lane (`fastLane: true`): answers hits after the platform routed the request and ran
 * its middleware and hooks, before Nest's pipeline, from the same entries and through the same
 * hit path as the interceptor ({@link CacheHits}), for the request targets the interceptor has
 * answered on the same route, where nothing in Nest's pipeline can refuse or change the answer
 * (see `CachePlan.lane`). Anything else (an unknown target, a miss, a stale entry, another
 * variant, a store failure) goes on to Nest untouched.
 */
@Injectable()
export class FastLane implements OnModuleInit {
  /** @internal */
  constructor(
    @Inject(RESPONSE_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly hits: CacheHits,
    private readonly learned: LearnedTargets,
    private readonly telemetry: CacheTelemetry,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  /** The app's adapter is Nest's own (not a subclass whose `reply` may do more): the lane may send bytes itself. */
  private nestReply = false;

  onModuleInit(): void {
    if (!this.options.fastLane) return;
    const adapter = this.adapterHost?.httpAdapter;
    this.nestReply = adapter !== undefined && isNestAdapter(adapter);
    if (adapter === undefined || !installLane(adapter, (request, response) => this.serve(request, response))) {
      new Logger('ResponseCache').warn(
        'fastLane is on, but the app has no Express or Fastify HTTP adapter: hits go through the interceptor.',
      );
    }
  }

  /** Number of request targets the lane can answer. */
  get size(): number {
    return this.learned.size;
  }

  /**
   * Answers the request from a fresh entry, as the interceptor would; false (nothing sent) when it
   * cannot. `request` and `response` are the platform's (Fastify's request and reply, Express's).
   * An entry held in process memory (memory store, tiered L1) is answered without an async step.
   */
  serve(request: unknown, response: unknown): boolean | Promise<boolean> {
    const started = performance.now();
    const options = this.options;
    const exchange = httpExchange(request, response);
    const routeId = exchange.routeId();
    if (routeId === undefined || !this.learned.knows(routeId) || !options.enabled) return false;
    if (requestRefusal(exchange, 'public', options.bypassQueryParam) !== undefined || exchange.headers[REFRESH_HEADER] !== undefined) {
      return false;
    }
    const target = keyTarget(options, exchange);
    const known = target === undefined ? undefined : this.learned.find(target, routeId);
    if (target === undefined || known === undefined) return false;
    const key = laneKey(options, exchange, known, target);
    if (key === undefined) return false;
    const found = this.hits.find(request as object, key, known.tags);
    const lookup: Lookup = { request: request as object, response, exchange, known, key, started };
    return found instanceof Promise ? found.then((f) => this.answer(lookup, f)) : this.answer(lookup, found);
  }

  private answer(lookup: Lookup, found: Found): boolean {
    const { exchange, known, key } = lookup;
    const now = this.hits.now;
    const entry = this.hits.fresh(exchange, known.plan, found, now);
    // Misses, other variants, stale entries (and their refresh) are the interceptor's.
    if (entry === undefined) {
      this.hits.handOn(lookup.request, key, found);
      return false;
    }
    const body = this.hits.hit(exchange, known.plan, entry, now, known.tags);
    this.telemetry.request('hit', known.route, key, lookup.started, LANE_REASON);
    if (this.nestReply && exchange.sendHit(body, entry)) return true;
    void this.adapterHost!.httpAdapter.reply(lookup.response, body);
    return true;
  }
}

/** Nest's own Fastify or Express adapter, not a subclass of it (whose `reply` may do more). */
function isNestAdapter(adapter: object): boolean {
  const own = Object.getPrototypeOf(adapter) as { constructor: { name: string } };
  const name = own.constructor.name;
  return (name === 'FastifyAdapter' || name === 'ExpressAdapter') && Object.getPrototypeOf(own) === AbstractHttpAdapter.prototype;
}

/**
 * The request's key. Without keyed headers it depends on the target and the handler alone (the
 * lane answers GET and HEAD, keyed alike, and no identity), so it is built once per learned target.
 */
function laneKey(options: ResolvedCacheOptions, exchange: HttpExchange, known: LearnedTarget, target: string): string | undefined {
  const headers = keyedHeaders(known.plan, target);
  if (headers.length > 0) return requestKey(options, exchange, known.plan, target, headers);
  return (known.laneKey ??= requestKey(options, exchange, known.plan, target, headers));
}

interface Lookup {
  request: object;
  response: unknown;
  exchange: HttpExchange;
  known: LearnedTarget;
  key: string;
  started: number;
}
