import { CallHandler, ExecutionContext, HttpException, Inject, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { Observable, defer, from, lastValueFrom, of } from 'rxjs';
import { REFRESH_HEADER } from '../engine/cache-warmer.service';
import { Found, STORE_FAILED } from '../engine/engine-entries';
import { CacheEngine } from '../engine/cache-engine';
import type { BypassReason } from '../http/cache-status';
import { HttpExchange, httpExchange } from '../http/http-exchange';
import { snapshotHeaders } from '../http/representation';
import { CacheHits } from '../hit/cache-hits';
import { uriTag } from '../key/cache-key';
import { Identity, anonymousIdentity, hashedIdentity, keyTarget, requestKey, uriTarget } from '../key/request-key';
import { NoIdentityTagError, TagResolutionError, resolveResultTags, resolveTags } from '../key/tags';
import { CacheTelemetry } from '../observability/cache-telemetry';
import type { RequestResult } from '../observability/metrics-sink';
import { TagErrorLog } from '../observability/tag-error-log';
import { LearnedTargets } from '../plan/learned-targets';
import { CachePlan, RoutePlans, keyedHeaders, learnVary, staleWindows, storableStatuses } from '../plan/route-plan';
import { requestRefusal, responseRefusal } from '../policy/cache-policy';
import { RESPONSE_CACHE_OPTIONS } from '../response-cache.constants';
import type { CacheRequestContext } from '../response-cache.options';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import type { CacheEntry } from '../store/cache-store';
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
    return defer(() => {
      // A hit from process memory is answered without a promise; anything else settles later.
      const answer = this.serve(context, next, request, exchange, cachePlan);
      return answer instanceof Promise ? from(answer) : of(answer);
    });
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
          "these entries nor invalidate each other's copies by URI. Set identitySecret, the same on every instance.",
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

    let tags: string[];
    try {
      tags = resolveTags(plan.tags, ctx, identity?.scope === 'user' && identity.anonymous !== true ? identity.id : undefined);
      tags.push(uriTag(uri, identity));
    } catch (error) {
      // A {user} tag for a caller without one: expected (anonymous: 'public'), served without the cache.
      if (error instanceof NoIdentityTagError) return this.bypass(next, exchange, plan, 'no-identity', started);
      if (!(error instanceof TagResolutionError)) throw error;
      this.tagErrors.report(`${error.message} on ${plan.label}; the response was served without the cache`);
      return this.bypass(next, exchange, plan, 'tag-error', started);
    }

    // A warming request (it knows the per-process secret) refreshes the entry: no lookup.
    const refresh = exchange.headers[REFRESH_HEADER] === this.options.refreshToken;
    const found = refresh ? undefined : this.hits.find(request, key, tags);
    const request$: Request = { context, next, exchange, plan, key, tags, ctx, target, identity, custom, started };
    return found instanceof Promise ? found.then((f) => this.answer(request$, f)) : this.answer(request$, found);
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
      if (staleFor < windows.staleWhileRevalidateMs) return this.revalidate(next, exchange, plan, stale, { key, tags, ctx }, started, now);
      if (staleFor < windows.staleIfErrorMs) fallback = stale;
    }
    const rekey = () => requestKey(this.options, exchange, plan, target, keyedHeaders(plan, target), request.identity, request.custom);
    return this.fill(next, exchange, plan, { key, tags, ctx, target, fallback, started, learn, rekey });
  }

  /** RFC 5861: answer at once from the stale entry; one refresh per key runs meanwhile. */
  private revalidate(
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
  private async fill(next: CallHandler, exchange: HttpExchange, plan: CachePlan, miss: Miss): Promise<unknown> {
    const { key, tags, target, fallback, started } = miss;
    const representation = this.hits.representation;
    const status = this.hits.status;
    // Set before the handler runs, so that an error response says what happened too.
    representation.status(exchange, 'MISS', status.miss);
    const before = snapshotHeaders(exchange);
    let refused: BypassReason | undefined;
    let failedWith: number | undefined; // the origin's status when a stale entry stands in for it
    const produce = async () => {
      let value: unknown;
      try {
        value = await lastValueFrom(next.handle(), { defaultValue: undefined });
      } catch (error) {
        const code = error instanceof HttpException ? error.getStatus() : 500;
        if (fallback === undefined || code < 500) throw error;
        failedWith = code;
        return { value: undefined };
      }
      if (fallback !== undefined && exchange.status() >= 500) {
        failedWith = exchange.status();
        return { value: undefined };
      }
      refused = responseRefusal(exchange, plan.scope, storableStatuses(exchange, plan, this.options.clock.now()), value);
      const drafted = refused === undefined ? await representation.draft(exchange, value, plan, before) : undefined;
      const tagged = this.withResultTags(plan, miss.ctx, value, drafted);
      if (tagged?.entry.variant === undefined) return { value, ...tagged };
      // The response varies on request headers: the key holds them from now on, this entry included.
      const learned = learnVary(plan, target, representation.variantNames(tagged.entry.headers.vary, plan));
      return { value, ...tagged, storeKey: learned ? miss.rekey() : undefined };
    };
    const result = await this.cache.fill(key, tags, plan.retentionMs, produce, { resultTags: plan.resultTags !== undefined });
    if (failedWith !== undefined && fallback !== undefined) {
      // RFC 5861 stale-if-error: the stale entry instead of the origin's error.
      const now = this.options.clock.now();
      const ttl = Math.floor((fallback.expiresAt - now) / 1000);
      this.report('stale', exchange, key, started, 'stale-if-error');
      return representation.represent(exchange, plan, fallback, 'STALE', status.staleOnError(failedWith, ttl), now);
    }
    if (result.collapsed && !representation.matchesVariant(exchange, result.entry, plan)) {
      // The leader's response varies on a header this request differs in: run the handler for it.
      return representation.uncached(exchange, plan, await lastValueFrom(next.handle(), { defaultValue: undefined }));
    }
    if (result.collapsed) {
      this.report('coalesced', exchange, key, started);
      return representation.represent(exchange, plan, result.entry, 'MISS', status.collapsed);
    }
    if (refused !== undefined) {
      representation.status(exchange, 'BYPASS', status.bypass(refused));
      this.report('bypass', exchange, key, started, refused);
      return representation.uncached(exchange, plan, result.value);
    }
    this.report('miss', exchange, key, started);
    // Produced, but the fence could not be read (store down): served, not stored.
    if (result.entry === undefined) return representation.uncached(exchange, plan, result.value);
    miss.learn();
    // The edge keeps only what the store kept: a fill an invalidation overtook stays off it too.
    if (this.hits.edge.enabled && (await result.written) !== false) this.hits.edge.mark(exchange, plan, tags);
    return representation.represent(exchange, plan, result.entry, 'MISS', status.stored);
  }

  /** The handler's answer without the cache; `shaped` false (the cache is off) leaves it exactly as it is. */
  private async bypass(next: CallHandler, exchange: HttpExchange, plan: CachePlan, reason: BypassReason, started: number, shaped = true) {
    this.hits.representation.status(exchange, 'BYPASS', this.hits.status.bypass(reason));
    this.report('bypass', exchange, undefined, started, reason);
    const value = await lastValueFrom(next.handle(), { defaultValue: undefined });
    return shaped ? this.hits.representation.uncached(exchange, plan, value) : value;
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

interface Miss {
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
