import { createHmac } from 'node:crypto';
import { CallHandler, ExecutionContext, HttpException, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { ApplicationConfig, ModuleRef, Reflector } from '@nestjs/core';
import { Observable, defer, from, lastValueFrom } from 'rxjs';
import { REFRESH_HEADER } from '../engine/cache-warmer.service';
import { STORE_FAILED } from '../engine/engine-entries';
import { ResponseCacheService } from '../engine/response-cache.service';
import { BypassReason, CacheStatus } from '../http/cache-status';
import { HttpExchange, httpExchange } from '../http/http-exchange';
import { Representation } from '../http/representation';
import { uriTag } from '../key/cache-key';
import { TagResolutionError, resolveTags } from '../key/tags';
import { FastLane, LANE_LOOKUP, LaneLookup } from '../lane/fast-lane';
import { CacheTelemetry } from '../observability/cache-telemetry';
import type { RequestResult } from '../observability/metrics-sink';
import { isSerializable, requestRefusal, responseRefusal } from '../policy/cache-policy';
import { RESPONSE_CACHE_OPTIONS } from '../response-cache.constants';
import { ResponseCacheError } from '../response-cache.errors';
import type { ResolvedCacheOptions } from '../response-cache.options';
import type { CacheEntry } from '../store/cache-store';
import { CachePlan, RoutePlans, learnVary, requestKey, staleWindows, storableStatuses } from './route-plan';
import { Identity, WriteInvalidation, requestContext, targetOf } from './write-invalidation';

/** RFC 9110 §9.2.1: every other method (POST, PUT, PATCH, DELETE, PURGE, …) may change the resource. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
/** Marks a request this cache already handles, when the interceptor is bound more than once. */
const HANDLED = Symbol('response-cache:handled');

interface Services {
  cache: ResponseCacheService;
  telemetry: CacheTelemetry;
  options: ResolvedCacheOptions;
  status: CacheStatus;
  plans: RoutePlans;
  representation: Representation;
  writes: WriteInvalidation;
  lane: FastLane;
}

/**
 * Reads `@Cacheable`, `@InvalidateTags` and `@NoCache` and runs the request policy.
 *
 * The decorators bind it to the routes they mark, so nothing needs registering and undecorated
 * routes are not intercepted at all (Nest charges every intercepted request for its interceptor
 * pipeline). Binding it as well per controller (`@UseInterceptors`) or globally
 * (`app.useGlobalInterceptors(app.get(ResponseCacheInterceptor))`) is harmless: each request is
 * handled once. It finds the cache services of `ResponseCacheModule.forRoot()` through the
 * module graph, so it works in feature modules that do not import the cache module.
 *
 * Subclass it to change how the verified identity is found: {@link identityOf}.
 */
@Injectable()
export class ResponseCacheInterceptor implements NestInterceptor {
  private resolved?: Services;

  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
  ) {}

  private get services(): Services {
    if (this.resolved === undefined) {
      let options: ResolvedCacheOptions;
      try {
        options = this.moduleRef.get<ResolvedCacheOptions>(RESPONSE_CACHE_OPTIONS, { strict: false });
      } catch {
        throw new ResponseCacheError(
          'ResponseCacheInterceptor found no ResponseCacheModule: import ResponseCacheModule.forRoot() (or forRootAsync()) once, in the root module.',
        );
      }
      const cache = this.moduleRef.get(ResponseCacheService, { strict: false });
      const config = this.moduleRef.get(ApplicationConfig, { strict: false });
      const globalGuards = () => config.getGlobalGuards().length > 0 || config.getGlobalRequestGuards().length > 0;
      this.resolved = {
        options,
        cache,
        telemetry: this.moduleRef.get(CacheTelemetry, { strict: false }),
        status: new CacheStatus(options.cacheStatusName),
        plans: new RoutePlans(this.reflector, options, globalGuards),
        representation: new Representation(options),
        writes: new WriteInvalidation(cache, options, (context, scope) => this.identity(context, scope)),
        lane: this.moduleRef.get(FastLane, { strict: false }),
      };
    }
    return this.resolved;
  }

  private get cache(): ResponseCacheService {
    return this.services.cache;
  }
  private get options(): ResolvedCacheOptions {
    return this.services.options;
  }
  private get status(): CacheStatus {
    return this.services.status;
  }
  private get representation(): Representation {
    return this.services.representation;
  }
  private get writes(): WriteInvalidation {
    return this.services.writes;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const plan = this.services.plans.of(context.getHandler(), context.getClass());
    const http = context.switchToHttp();
    const request = http.getRequest<{ method: string } & Record<symbol, unknown>>();
    // An undecorated route reaches here only where the interceptor is bound globally or per
    // controller: its writes still invalidate their URI (RFC 9111 §4.4).
    if (plan === null && SAFE_METHODS.has(request.method)) return next.handle();
    if (request[HANDLED] === true) return next.handle();
    request[HANDLED] = true;
    const exchange = httpExchange(request, http.getResponse());
    if (!SAFE_METHODS.has(exchange.method)) return this.writes.after(context, next, exchange, plan?.invalidate ?? []);
    if (plan?.cache !== undefined) {
      const cachePlan = plan.cache;
      const laneLookup = request[LANE_LOOKUP] as LaneLookup | undefined;
      return defer(() => from(this.serve(context, next, exchange, cachePlan, laneLookup)));
    }
    return next.handle();
  }

  /**
   * The verified identity that partitions a per-user or per-tenant route; undefined refuses
   * caching for the request. Override to read it from elsewhere.
   */
  protected identityOf(context: ExecutionContext, scope: 'user' | 'tenant'): string | undefined {
    const resolver = scope === 'user' ? this.options.userIdentity : this.options.tenantIdentity;
    return resolver(context) ?? undefined;
  }

  private secretNoticed = false;

  /**
   * The caller's identity in `scope` as keys and URI tags carry it: a keyed hash (HMAC), so that
   * keys, stats and events never carry a user id that a list of names reverses.
   */
  private identity(context: ExecutionContext, scope: 'user' | 'tenant'): Identity | undefined {
    const id = this.identityOf(context, scope);
    if (id === undefined) return undefined;
    if (this.options.identitySecretGenerated && this.options.store.local !== true) this.saySecretIsPerProcess();
    return { scope, id: createHmac('sha256', this.options.identitySecret).update(`${scope}:${id}`).digest('base64url') };
  }

  /** Once: per-user keys on a shared store with a secret that only this process knows. */
  private saySecretIsPerProcess(): void {
    if (this.secretNoticed) return;
    this.secretNoticed = true;
    new Logger('ResponseCache').log(
      'per-user and per-tenant keys are hashed with a secret made for this process: instances sharing the store neither share ' +
        "these entries nor invalidate each other's copies by URI. Set identitySecret, the same on every instance.",
    );
  }

  // ---- cacheable routes ----

  private async serve(
    context: ExecutionContext,
    next: CallHandler,
    exchange: HttpExchange,
    plan: CachePlan,
    laneLookup?: LaneLookup,
  ): Promise<unknown> {
    const started = performance.now();
    if (!this.options.enabled) return this.bypass(next, exchange, plan, 'disabled', started);
    const refusal = requestRefusal(exchange, plan.scope, this.options.bypassQueryParam);
    if (refusal !== undefined) return this.bypass(next, exchange, plan, refusal, started);

    let identity: Identity | undefined;
    if (plan.scope !== 'public') {
      identity = this.identity(context, plan.scope);
      if (identity === undefined) return this.bypass(next, exchange, plan, 'no-identity', started);
    }
    const target = targetOf(this.options, exchange);
    const custom = plan.key === undefined || target === undefined ? undefined : plan.key(requestContext(context, exchange));
    const key = target === undefined ? undefined : requestKey(this.options, exchange, plan, target, identity, custom);
    if (target === undefined || key === undefined) return this.bypass(next, exchange, plan, 'invalid-key', started);

    let tags: string[];
    try {
      tags = plan.tags.length === 0 ? [] : resolveTags(plan.tags, requestContext(context, exchange));
      tags.push(uriTag(target, identity));
    } catch (error) {
      if (!(error instanceof TagResolutionError)) throw error;
      this.cache.storeError('resolveTags', error);
      return this.bypass(next, exchange, plan, 'tag-error', started);
    }

    // A warming request (it knows the per-process secret) refreshes the entry: no lookup.
    const refresh = exchange.headers[REFRESH_HEADER] === this.options.refreshToken;
    // The fast lane looked this key up already when it handed the request on.
    let found = refresh ? undefined : laneLookup?.key === key ? laneLookup.found : await this.cache.lookup(key, tags);
    if (found === STORE_FAILED) return this.bypass(next, exchange, plan, 'store-unavailable', started);
    // Another variant of the URL (its response varies on a request header this request differs in).
    if (found !== undefined && !this.representation.matchesVariant(exchange, found, plan)) found = undefined;
    const now = this.options.clock.now();
    let fallback: CacheEntry | undefined; // a stale entry to serve if the handler fails
    if (found !== undefined) {
      const ttl = Math.floor((found.expiresAt - now) / 1000);
      if (found.expiresAt > now) {
        const body = this.representation.represent(exchange, plan, found, 'HIT', this.status.hit(ttl), now);
        if (plan.lane) this.services.lane.learn(target, plan, tags, exchange.route);
        this.report('hit', exchange, key, started);
        return body;
      }
      const staleFor = now - found.expiresAt;
      const windows = staleWindows(plan, found);
      if (staleFor < windows.staleWhileRevalidateMs) {
        // RFC 5861: answer at once from the stale entry; one refresh per key runs meanwhile.
        const body = this.representation.represent(exchange, plan, found, 'STALE', this.status.hit(ttl), now);
        const stale = found;
        this.cache.refreshInBackground(key, tags, plan.retentionMs, async () => {
          // The stale answer has been sent: the response's status and headers are the cache's own
          // now, so the refresh keeps the stale entry's and checks only that the value is storable.
          const value = await lastValueFrom(next.handle(), { defaultValue: undefined });
          return { value, ...(isSerializable(value) ? await this.representation.draft(exchange, value, plan, stale) : undefined) };
        });
        this.report('stale', exchange, key, started, 'stale-while-revalidate');
        return body;
      }
      if (staleFor < windows.staleIfErrorMs) fallback = found;
    }

    // Set before the handler runs, so that an error response says what happened too.
    this.representation.status(exchange, 'MISS', this.status.miss);
    let refused: BypassReason | undefined;
    let failedWith: number | undefined; // the origin's status when a stale entry stands in for it
    const result = await this.cache.fill(key, tags, plan.retentionMs, async () => {
      let value: unknown;
      try {
        value = await lastValueFrom(next.handle(), { defaultValue: undefined });
      } catch (error) {
        const status = error instanceof HttpException ? error.getStatus() : 500;
        if (fallback === undefined || status < 500) throw error;
        failedWith = status;
        return { value: undefined };
      }
      if (fallback !== undefined && exchange.status() >= 500) {
        failedWith = exchange.status();
        return { value: undefined };
      }
      refused = responseRefusal(exchange, plan.scope, storableStatuses(exchange, plan, this.options.clock.now()), value);
      const drafted = refused === undefined ? await this.representation.draft(exchange, value, plan) : undefined;
      if (drafted?.entry.variant !== undefined) learnVary(plan, target, this.representation.variantNames(drafted.entry.headers.vary, plan));
      return { value, ...drafted };
    });
    if (failedWith !== undefined && fallback !== undefined) {
      // RFC 5861 stale-if-error: the stale entry instead of the origin's error.
      const ttl = Math.floor((fallback.expiresAt - this.options.clock.now()) / 1000);
      const body = this.representation.represent(exchange, plan, fallback, 'STALE', this.status.staleOnError(failedWith, ttl), now);
      this.report('stale', exchange, key, started, 'stale-if-error');
      return body;
    }
    if (result.collapsed && !this.representation.matchesVariant(exchange, result.entry, plan)) {
      // The leader's response varies on a header this request differs in: run the handler for it.
      return this.representation.uncached(exchange, plan, await lastValueFrom(next.handle(), { defaultValue: undefined }));
    }
    if (result.collapsed) {
      const body = this.representation.represent(exchange, plan, result.entry, 'MISS', this.status.collapsed);
      this.report('coalesced', exchange, key, started);
      return body;
    }
    if (refused !== undefined) {
      this.representation.status(exchange, 'BYPASS', this.status.bypass(refused));
      this.report('bypass', exchange, key, started, refused);
      return this.representation.uncached(exchange, plan, result.value);
    }
    this.report('miss', exchange, key, started);
    if (result.entry === undefined) {
      // Produced, but the fence could not be read (store down): served, not stored.
      return this.representation.uncached(exchange, plan, result.value);
    }
    if (plan.lane) this.services.lane.learn(target, plan, tags, exchange.route);
    return this.representation.represent(exchange, plan, result.entry, 'MISS', this.status.stored);
  }

  private async bypass(
    next: CallHandler,
    exchange: HttpExchange,
    plan: CachePlan,
    reason: BypassReason,
    started: number,
  ): Promise<unknown> {
    this.representation.status(exchange, 'BYPASS', this.status.bypass(reason));
    this.report('bypass', exchange, undefined, started, reason);
    const value = await lastValueFrom(next.handle(), { defaultValue: undefined });
    return this.representation.uncached(exchange, plan, value);
  }

  private report(result: RequestResult, exchange: HttpExchange, key: string | undefined, started: number, reason?: string): void {
    this.services.telemetry.request(result, exchange.route, key, started, reason);
  }
}
