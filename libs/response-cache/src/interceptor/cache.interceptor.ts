import { CallHandler, ExecutionContext, Inject, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { Observable, from, lastValueFrom, of } from 'rxjs';
import { REFRESH_HEADER } from '../engine/cache-warmer.service';
import { Found, STORE_FAILED } from '../engine/engine-entries';
import { CacheEngine } from '../engine/cache-engine';
import type { BypassReason } from '../http/cache-status';
import { HttpExchange, httpExchange } from '../http/http-exchange';
import { CacheHits } from '../hit/cache-hits';
import { uriTag } from '../key/cache-key';
import { Identity, anonymousIdentity, hashedIdentity, keyTarget, requestKey, uriTarget } from '../key/request-key';
import { NoIdentityTagError, TagResolutionError, resolveTags } from '../key/tags';
import { CacheTelemetry } from '../observability/cache-telemetry';
import type { RequestResult } from '../observability/metrics-sink';
import { TagErrorLog } from '../observability/tag-error-log';
import { LearnedTargets } from '../plan/learned-targets';
import { CachePlan, RoutePlans, keyedHeaders, staleWindows } from '../plan/route-plan';
import { requestRefusal } from '../policy/cache-policy';
import { RESPONSE_CACHE_OPTIONS } from '../response-cache.constants';
import type { CacheRequestContext } from '../response-cache.options';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import type { CacheEntry } from '../store/cache-store';
import { CacheMisses } from './cache-misses';
import { WriteInvalidation } from './write-invalidation';

/** RFC 9110 §9.2.1: every other method (POST, PUT, PATCH, DELETE, PURGE, …) may change the resource. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Once per process: per-user keys on a shared store with a secret that only this process knows. */
let secretNoticed = false;

/**
 * The cache in Nest's pipeline. `ResponseCacheModule` binds it globally and first, so that it
 * wraps every other interceptor (global, controller, method): what it stores is the value that
 * left them all, serialized as the platform sends it, and a hit answers exactly what the handler
 * and those interceptors would have. Guards and middleware run before it, on hits too.
 */
@Injectable()
export class CacheInterceptor implements NestInterceptor {
  private readonly writes: WriteInvalidation;
  private readonly tagErrors: TagErrorLog;
  private readonly misses: CacheMisses;

  /** @internal */
  constructor(
    @Inject(RESPONSE_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly cache: CacheEngine,
    private readonly telemetry: CacheTelemetry,
    private readonly hits: CacheHits,
    private readonly learned: LearnedTargets,
    private readonly plans: RoutePlans,
  ) {
    this.writes = new WriteInvalidation(cache, options, (context, scope) => this.identity(context, scope));
    this.tagErrors = new TagErrorLog(options.clock);
    this.misses = new CacheMisses(options, cache, hits, telemetry, this.tagErrors);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const plan = this.plans.of(context.getHandler(), context.getClass());
    const http = context.switchToHttp();
    const request = http.getRequest<{ method: string }>();
    // Undecorated reads are left alone; every successful write invalidates its URI (RFC 9111 §4.4).
    if (plan === null && SAFE_METHODS.has(request.method)) return next.handle();
    const exchange = httpExchange(request, http.getResponse());
    if (!SAFE_METHODS.has(exchange.method)) return this.writes.after(context, next, exchange, plan ?? { label: exchange.route });
    const cachePlan = plan?.cache;
    if (cachePlan === undefined) return next.handle();
    // Nest calls intercept() when its pipeline is subscribed to, so the work starts then as it is.
    // A hit from process memory is answered without a promise; anything else settles later.
    const answer = this.serve(context, next, request, exchange, cachePlan);
    return answer instanceof Promise ? from(answer) : of(answer);
  }

  /** The verified identity that partitions a per-user or per-tenant route, hashed; undefined refuses caching. */
  private identity(context: ExecutionContext, scope: 'user' | 'tenant'): Identity | undefined {
    const resolver = scope === 'user' ? this.options.identity.user : this.options.identity.tenant;
    const id = resolver(context) ?? undefined;
    if (id === undefined) return undefined;
    if (this.options.identity.secretGenerated && this.options.store.local !== true && !secretNoticed) {
      secretNoticed = true;
      new Logger('ResponseCache').log(
        'per-user and per-tenant keys are hashed with a secret made for this process: instances sharing the store neither share ' +
          "these entries nor invalidate each other's copies by URI. Set identity: { secret }, the same on every instance.",
      );
    }
    return hashedIdentity(this.options.identity.secret, scope, id);
  }

  private serve(context: ExecutionContext, next: CallHandler, request: object, exchange: HttpExchange, routePlan: CachePlan): unknown {
    const started = performance.now();
    let plan = routePlan;
    this.hits.edge.refuse(exchange); // until the response is one the edge may keep
    if (!this.options.enabled) return this.bypass(next, exchange, plan, 'disabled', started, false);
    const refusal = requestRefusal(exchange, plan.scope, this.options.bypassQueryParam);
    if (refusal !== undefined) return this.bypass(next, exchange, plan, refusal, started);

    let identity: Identity | undefined;
    if (plan.scope !== 'public') {
      identity = this.identity(context, plan.scope);
      // anonymous: 'public': callers without an identity share a partition of their own.
      if (identity === undefined && plan.anonymous !== undefined) [identity, plan] = [anonymousIdentity(plan.scope), plan.anonymous];
      if (identity === undefined) return this.bypass(next, exchange, plan, 'no-identity', started);
    }
    const ctx: CacheRequestContext = { context, params: exchange.params, query: exchange.query };
    const target = keyTarget(this.options, exchange, plan);
    const uri = uriTarget(this.options, exchange);
    const custom = plan.key === undefined || target === undefined ? undefined : plan.key(ctx);
    const key =
      target === undefined ? undefined : requestKey(this.options, exchange, plan, target, keyedHeaders(plan, target), identity, custom);
    if (target === undefined || uri === undefined || key === undefined) return this.bypass(next, exchange, plan, 'invalid-key', started);

    const tags = this.tagsOf(plan, ctx, uri, identity);
    if (!Array.isArray(tags)) return this.bypass(next, exchange, plan, tags, started);

    // A warming request (it knows the per-process secret) refreshes the entry: no lookup.
    const refresh = exchange.headers[REFRESH_HEADER] === this.options.refreshToken;
    const found = refresh ? undefined : this.hits.find(request, key, tags);
    const request$: Request = { context, next, exchange, plan, key, tags, ctx, target, identity, custom, started };
    return found instanceof Promise ? found.then((f) => this.answer(request$, f)) : this.answer(request$, found);
  }

  /** The entry's tags (the route's, resolved, and its URI's), or why the request goes without the cache. */
  private tagsOf(plan: CachePlan, ctx: CacheRequestContext, uri: string, identity: Identity | undefined): string[] | BypassReason {
    try {
      const tags = resolveTags(plan.tags, ctx, identity?.scope === 'user' && identity.anonymous !== true ? identity.id : undefined);
      tags.push(uriTag(uri, identity));
      return tags;
    } catch (error) {
      // A {user} tag for a caller without one: expected (anonymous: 'public'), served without the cache.
      if (error instanceof NoIdentityTagError) return 'no-identity';
      if (!(error instanceof TagResolutionError)) throw error;
      this.tagErrors.report(`${error.message} on ${plan.label}; the response was served without the cache`);
      return 'tag-error';
    }
  }

  /** What the lookup found decides: a hit, a stale answer (and its refresh), or a fill. */
  private answer(request: Request, found: Found): unknown {
    const { next, exchange, plan, key, tags, ctx, target, started } = request;
    if (found === STORE_FAILED) return this.bypass(next, exchange, plan, 'store-unavailable', started);
    const now = this.hits.now;
    const fresh = this.hits.fresh(exchange, plan, found, now);
    const learn = () => {
      const routeId = exchange.routeId();
      if (plan.lane && routeId !== undefined) this.learned.learn(target, { routeId, plan, tags, route: exchange.route });
    };
    if (fresh !== undefined) {
      learn();
      this.report('hit', exchange, key, started);
      return this.hits.hit(exchange, plan, fresh, now, tags);
    }
    // Another variant of the URL (its response varies on a request header this request differs in) is no entry of ours.
    const stale = found !== undefined && this.hits.representation.matchesVariant(exchange, found, plan) ? found : undefined;
    let fallback: CacheEntry | undefined; // a stale entry to serve if the handler fails
    if (stale !== undefined) {
      const staleFor = now - stale.expiresAt;
      const windows = staleWindows(plan, stale);
      if (staleFor < windows.staleWhileRevalidateMs)
        return this.misses.revalidate(next, exchange, plan, stale, { key, tags, ctx }, started, now);
      if (staleFor < windows.staleIfErrorMs) fallback = stale;
    }
    const rekey = () => requestKey(this.options, exchange, plan, target, keyedHeaders(plan, target), request.identity, request.custom);
    return this.misses.fill(next, exchange, plan, { key, tags, ctx, target, fallback, started, learn, rekey });
  }

  /** The handler's answer without the cache; `shaped` false (the cache is off) leaves it exactly as it is. */
  private async bypass(next: CallHandler, exchange: HttpExchange, plan: CachePlan, reason: BypassReason, started: number, shaped = true) {
    this.hits.representation.status(exchange, 'BYPASS', this.hits.status.bypass(reason));
    this.report('bypass', exchange, undefined, started, reason);
    const value = await lastValueFrom(next.handle(), { defaultValue: undefined });
    return shaped ? this.hits.representation.uncached(exchange, plan, value) : value;
  }

  private report(result: RequestResult, exchange: HttpExchange, key: string | undefined, started: number, reason?: string): void {
    this.telemetry.request(result, exchange.route, key, started, reason);
  }
}

/** A cacheable request, keyed and tagged, on its way to its lookup's answer. */
interface Request {
  context: ExecutionContext;
  next: CallHandler;
  exchange: HttpExchange;
  plan: CachePlan;
  key: string;
  tags: string[];
  ctx: CacheRequestContext;
  target: string;
  identity: Identity | undefined;
  custom: string | undefined;
  started: number;
}
