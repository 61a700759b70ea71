import { createHmac } from 'node:crypto';
import { CallHandler, ExecutionContext, HttpException, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Observable, defer, from, lastValueFrom, mergeMap } from 'rxjs';
import { REFRESH_HEADER } from '../engine/cache-warmer.service';
import { DraftEntry, ResponseCacheService, STORE_FAILED } from '../engine/response-cache.service';
import { renderCacheControl } from '../http/cache-control';
import { BypassReason, CacheStatus } from '../http/cache-status';
import { isNotModified } from '../http/conditional-request';
import { weakEtag } from '../http/etag';
import { HttpExchange, httpExchange } from '../http/http-exchange';
import { buildCacheKey, requestTarget, uriTag } from '../key/cache-key';
import { TagResolutionError, resolveTags } from '../key/tags';
import { CacheTelemetry } from '../observability/cache-telemetry';
import type { RequestResult } from '../observability/metrics-sink';
import { isSerializable, requestRefusal, responseRefusal } from '../policy/cache-policy';
import { CACHEABLE_METADATA, INVALIDATE_TAGS_METADATA, NO_CACHE_METADATA, RESPONSE_CACHE_OPTIONS } from '../response-cache.constants';
import { ResponseCacheError } from '../response-cache.errors';
import { seconds, validateStatuses } from '../options/option-checks';
import type {
  CacheRequestContext,
  CacheScope,
  CacheableOptions,
  InvalidationContext,
  ResolvedCacheOptions,
  TagSpec,
} from '../response-cache.options';
import { CacheEntry } from '../store/cache-store';

/** Everything about a route that does not depend on the request, computed once per handler. */
interface CachePlan {
  ttlMs: number;
  /** Serve a stale entry at once and refresh it in the background, for this long past its TTL. */
  staleWhileRevalidateMs: number;
  /** Serve a stale entry instead of a 5xx or a thrown error, for this long past its TTL. */
  staleIfErrorMs: number;
  /** How long the store keeps an entry: its TTL plus the longer stale window. */
  retentionMs: number;
  tags: readonly TagSpec[];
  varyBy: readonly string[];
  scope: CacheScope;
  cacheControl: string | undefined;
  vary: string | undefined;
  key: CacheableOptions['key'];
  statuses: ReadonlySet<number>;
}

interface RoutePlan {
  cache?: CachePlan;
  invalidate?: readonly TagSpec<InvalidationContext>[];
}

const X_CACHE = 'X-Cache';
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const CACHE_STATUS = 'Cache-Status';
/** Marks a request this cache already handles, when the interceptor is bound more than once. */
const HANDLED = Symbol('response-cache:handled');

interface Services {
  cache: ResponseCacheService;
  telemetry: CacheTelemetry;
  options: ResolvedCacheOptions;
  status: CacheStatus;
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
  private readonly plans = new WeakMap<object, RoutePlan | null>();
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
      this.resolved = {
        options,
        cache: this.moduleRef.get(ResponseCacheService, { strict: false }),
        telemetry: this.moduleRef.get(CacheTelemetry, { strict: false }),
        status: new CacheStatus(options.cacheStatusName),
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

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const plan = this.planOf(context);
    if (plan === null) return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<Record<symbol, unknown>>();
    if (request[HANDLED] === true) return next.handle();
    request[HANDLED] = true;
    const exchange = httpExchange(request, http.getResponse());
    const method = exchange.method;
    if (UNSAFE_METHODS.has(method)) return this.invalidateAfter(context, next, exchange, plan.invalidate ?? []);
    if (plan.cache !== undefined) {
      const cachePlan = plan.cache;
      return defer(() => from(this.serve(context, next, exchange, cachePlan)));
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

  private async serve(context: ExecutionContext, next: CallHandler, exchange: HttpExchange, plan: CachePlan): Promise<unknown> {
    const started = performance.now();
    if (!this.options.enabled) return this.bypass(next, exchange, plan, 'disabled', started);
    const refusal = requestRefusal(exchange, plan.scope, this.options.bypassQueryParam);
    if (refusal !== undefined) return this.bypass(next, exchange, plan, refusal, started);

    let identity: { scope: 'user' | 'tenant'; id: string } | undefined;
    if (plan.scope !== 'public') {
      const id = this.identityOf(context, plan.scope);
      if (id === undefined) return this.bypass(next, exchange, plan, 'no-identity', started);
      if (this.options.identitySecretGenerated && this.options.store.local !== true) this.saySecretIsPerProcess();
      // Keyed hash: keys, stats and events never carry a user id that a list of names reverses.
      identity = {
        scope: plan.scope,
        id: createHmac('sha256', this.options.identitySecret).update(`${plan.scope}:${id}`).digest('base64url'),
      };
    }
    const target = this.targetOf(exchange);
    const key = target === undefined ? undefined : this.keyOf(context, exchange, plan, identity, target);
    if (target === undefined || key === undefined) return this.bypass(next, exchange, plan, 'invalid-key', started);

    let tags: string[];
    try {
      tags = plan.tags.length === 0 ? [] : resolveTags(plan.tags, this.requestContext(context, exchange));
      tags.push(uriTag(target, identity));
    } catch (error) {
      if (!(error instanceof TagResolutionError)) throw error;
      this.cache.storeError('resolveTags', error);
      return this.bypass(next, exchange, plan, 'tag-error', started);
    }

    // A warming request (it knows the per-process secret) refreshes the entry: no lookup.
    const refresh = exchange.headers[REFRESH_HEADER] === this.options.refreshToken;
    const found = refresh ? undefined : await this.cache.lookup(key, tags);
    if (found === STORE_FAILED) return this.bypass(next, exchange, plan, 'store-unavailable', started);
    const now = this.options.clock.now();
    let fallback: CacheEntry | undefined; // a stale entry to serve if the handler fails
    if (found !== undefined) {
      const ttl = Math.floor((found.expiresAt - now) / 1000);
      if (found.expiresAt > now) {
        const body = this.represent(exchange, plan, found, 'HIT', this.status.hit(ttl), now);
        this.report('hit', exchange, key, started);
        return body;
      }
      const staleFor = now - found.expiresAt;
      if (staleFor < plan.staleWhileRevalidateMs) {
        // RFC 5861: answer at once from the stale entry; one refresh per key runs meanwhile.
        const body = this.represent(exchange, plan, found, 'STALE', this.status.hit(ttl), now);
        this.cache.refreshInBackground(key, tags, plan.retentionMs, async () => {
          const value = await lastValueFrom(next.handle(), { defaultValue: undefined });
          const refused = responseRefusal(exchange, plan.scope, plan.statuses, value);
          return { value, entry: refused === undefined ? await this.draft(exchange, value, plan) : undefined };
        });
        this.report('stale', exchange, key, started, 'stale-while-revalidate');
        return body;
      }
      if (staleFor < plan.staleIfErrorMs) fallback = found;
    }

    // Set before the handler runs, so that an error response says what happened too.
    exchange.setHeader(X_CACHE, 'MISS');
    exchange.setHeader(CACHE_STATUS, this.status.miss);
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
      refused = responseRefusal(exchange, plan.scope, plan.statuses, value);
      return { value, entry: refused === undefined ? await this.draft(exchange, value, plan) : undefined };
    });
    if (failedWith !== undefined && fallback !== undefined) {
      // RFC 5861 stale-if-error: the stale entry instead of the origin's error.
      const ttl = Math.floor((fallback.expiresAt - this.options.clock.now()) / 1000);
      const body = this.represent(exchange, plan, fallback, 'STALE', this.status.staleOnError(failedWith, ttl), now);
      this.report('stale', exchange, key, started, 'stale-if-error');
      return body;
    }
    if (result.collapsed) {
      const body = this.represent(exchange, plan, result.entry, 'MISS', this.status.collapsed);
      this.report('coalesced', exchange, key, started);
      return body;
    }
    if (refused !== undefined) {
      exchange.setHeader(X_CACHE, 'BYPASS');
      exchange.setHeader(CACHE_STATUS, this.status.bypass(refused));
      this.report('bypass', exchange, key, started, refused);
      return this.uncached(exchange, plan, result.value);
    }
    this.report('miss', exchange, key, started);
    if (result.entry === undefined) {
      // Produced, but the fence could not be read (store down): served, not stored.
      return this.uncached(exchange, plan, result.value);
    }
    return this.represent(exchange, plan, result.entry, 'MISS', this.status.stored);
  }

  private async bypass(
    next: CallHandler,
    exchange: HttpExchange,
    plan: CachePlan,
    reason: BypassReason,
    started: number,
  ): Promise<unknown> {
    exchange.setHeader(X_CACHE, 'BYPASS');
    exchange.setHeader(CACHE_STATUS, this.status.bypass(reason));
    this.report('bypass', exchange, undefined, started, reason);
    const value = await lastValueFrom(next.handle(), { defaultValue: undefined });
    return this.uncached(exchange, plan, value);
  }

  /**
   * Writes the headers of a stored representation and returns what the platform should send:
   * the stored body as it is, or nothing for a 304 (which carries no content headers).
   */
  private represent(
    exchange: HttpExchange,
    plan: CachePlan,
    entry: CacheEntry | DraftEntry,
    xCache: string,
    cacheStatus: string,
    hitAt?: number,
  ): unknown {
    // The gzip representation, to a client that accepts it; its ETag differs (RFC 9110 §8.8.3.3).
    const gzip = entry.gzip !== undefined && acceptsGzip(exchange.headers['accept-encoding']) ? entry.gzip : undefined;
    const etag = gzip === undefined ? entry.etag : gzipEtag(entry.etag);
    this.validators(exchange, plan, etag, entry.headers['last-modified']);
    exchange.setHeader(X_CACHE, xCache);
    exchange.setHeader(CACHE_STATUS, cacheStatus);
    if (hitAt !== undefined) exchange.setHeader('Age', String(Math.max(0, Math.floor((hitAt - entry.storedAt) / 1000))));
    if (this.notModified(exchange, etag, entry.storedAt)) return undefined;
    const headers = entry.headers;
    for (const name in headers) if (name !== 'last-modified') exchange.setHeader(name, headers[name]);
    exchange.setStatus(entry.status);
    if (gzip === undefined) return entry.body;
    exchange.setHeader('Content-Encoding', 'gzip');
    return exchange.bytes(gzip);
  }

  /** A response that is not stored still gets its validators and the 304 rules when it is a 200. */
  private uncached(exchange: HttpExchange, plan: CachePlan, value: unknown): unknown {
    if (exchange.status() !== 200) return value;
    const serialized = serialize(exchange, value);
    if (serialized === undefined) return value;
    const etag = exchange.getHeader('etag') ?? weakEtag(serialized.body);
    const now = this.options.clock.now();
    this.validators(exchange, plan, etag, httpDate(now));
    if (this.notModified(exchange, etag, now)) return undefined;
    if (exchange.getHeader('content-type') === undefined) exchange.setHeader('Content-Type', serialized.contentType);
    return serialized.body;
  }

  private validators(exchange: HttpExchange, plan: CachePlan, etag: string, lastModified: string): void {
    exchange.setHeader('ETag', etag);
    exchange.setHeader('Last-Modified', lastModified);
    if (plan.cacheControl !== undefined) exchange.setHeader('Cache-Control', plan.cacheControl);
    if (plan.vary !== undefined) exchange.setHeader('Vary', plan.vary);
  }

  private notModified(exchange: HttpExchange, etag: string, lastModified: number): boolean {
    const headers = exchange.headers;
    const conditional = { method: exchange.method, ifNoneMatch: headers['if-none-match'], ifModifiedSince: headers['if-modified-since'] };
    if (conditional.ifNoneMatch === undefined && conditional.ifModifiedSince === undefined) return false;
    if (!isNotModified(conditional, etag, lastModified)) return false;
    exchange.setStatus(304);
    return true;
  }

  private async draft(exchange: HttpExchange, value: unknown, plan: CachePlan): Promise<DraftEntry | undefined> {
    const serialized = serialize(exchange, value);
    if (serialized === undefined) return undefined;
    const threshold = this.options.compressAboveBytes;
    // Compressed once, off the event loop, so that hits can send these bytes as they are.
    const gzip = threshold !== undefined && Buffer.byteLength(serialized.body) > threshold ? await gzipAsync(serialized.body) : undefined;
    const now = this.options.clock.now();
    // Last-Modified is formatted once, here, rather than on every hit.
    const headers: Record<string, string> = { 'content-type': serialized.contentType, 'last-modified': httpDate(now) };
    for (const name of this.options.storedHeaders) {
      if (name === 'content-type' || name === 'last-modified') continue;
      const header = exchange.getHeader(name);
      if (header !== undefined) headers[name] = header;
    }
    return {
      status: exchange.status(),
      headers,
      body: serialized.body,
      ...(gzip === undefined ? {} : { gzip }),
      etag: weakEtag(serialized.body),
      storedAt: now,
      expiresAt: now + plan.ttlMs,
    };
  }

  private keyOf(
    context: ExecutionContext,
    exchange: HttpExchange,
    plan: CachePlan,
    identity: { scope: 'user' | 'tenant'; id: string } | undefined,
    target: string,
  ): string | undefined {
    const headers = exchange.headers;
    const vary = plan.varyBy.length === 0 ? undefined : plan.varyBy.map((name) => [name, headerString(headers[name])] as const);
    return buildCacheKey(
      {
        method: exchange.method,
        host: this.options.keyIncludesHost ? headerString(headers.host) : undefined,
        path: exchange.path,
        query: exchange.query,
        dropParam: this.options.bypassQueryParam,
        vary,
        identity,
        custom: plan.key === undefined ? undefined : plan.key(this.requestContext(context, exchange)),
        target,
      },
      this.options.maxKeyLength,
    );
  }

  /** The request's normalized host + path + query, from which its key and URI tag are built. */
  private targetOf(exchange: HttpExchange, path = exchange.path, query = exchange.query): string | undefined {
    const host = this.options.keyIncludesHost ? headerString(exchange.headers.host) : undefined;
    return requestTarget(host, path, query, this.options.bypassQueryParam);
  }

  /** The request URI's tags: the shared variant and the caller's own per-user / per-tenant ones. */
  private callerUriTags(context: ExecutionContext, exchange: HttpExchange): string[] {
    const target = this.targetOf(exchange);
    if (target === undefined) return [];
    const tags = [uriTag(target)];
    for (const scope of ['user', 'tenant'] as const) {
      const id = this.identityOf(context, scope);
      if (id !== undefined) tags.push(uriTag(target, { scope, id }));
    }
    return tags;
  }

  /** URIs named by `Location` / `Content-Location` on the same host as the request. */
  private locationTags(exchange: HttpExchange): string[] {
    const host = headerString(exchange.headers.host);
    const tags: string[] = [];
    for (const name of ['location', 'content-location']) {
      const value = exchange.getHeader(name);
      if (value === undefined || host === undefined) continue;
      let url: URL;
      try {
        url = new URL(value, `http://${host}`);
      } catch {
        continue;
      }
      if (url.host.toLowerCase() !== host.toLowerCase()) continue;
      const query = Object.fromEntries([...url.searchParams.keys()].map((k) => [k, url.searchParams.getAll(k)]));
      const target = this.targetOf(exchange, url.pathname, query);
      if (target !== undefined) tags.push(uriTag(target));
    }
    return tags;
  }

  private requestContext(context: ExecutionContext, exchange: HttpExchange): CacheRequestContext {
    return { context, params: exchange.params, query: exchange.query };
  }

  private report(result: RequestResult, exchange: HttpExchange, key: string | undefined, started: number, reason?: string): void {
    this.services.telemetry.request(result, exchange.route, key, started, reason);
  }

  // ---- mutations ----

  /**
   * Invalidates after a 2xx result, before the response leaves: an acknowledged write is never
   * followed by old data. Besides the declared tags, the request's own URI and any same-host
   * `Location` / `Content-Location` of the response are invalidated (RFC 9111 §4.4).
   */
  private invalidateAfter(
    context: ExecutionContext,
    next: CallHandler,
    exchange: HttpExchange,
    specs: readonly TagSpec<InvalidationContext>[],
  ): Observable<unknown> {
    return next.handle().pipe(
      mergeMap(async (result: unknown) => {
        const status = exchange.status();
        if (status < 200 || status >= 300) return result;
        try {
          const tags = resolveTags(specs, { ...this.requestContext(context, exchange), result });
          tags.push(...this.callerUriTags(context, exchange), ...this.locationTags(exchange));
          await this.cache.invalidateTags(tags);
        } catch (error) {
          if (!(error instanceof TagResolutionError)) throw error;
          this.cache.storeError('resolveTags', error);
        }
        return result;
      }),
    );
  }

  // ---- plans ----

  private planOf(context: ExecutionContext): RoutePlan | null {
    const handler = context.getHandler();
    let plan = this.plans.get(handler);
    if (plan === undefined) {
      plan = this.buildPlan(handler, context.getClass());
      this.plans.set(handler, plan);
    }
    return plan;
  }

  private buildPlan(handler: object, controller: object): RoutePlan | null {
    const get = <T>(key: string, target: object): T | undefined => this.reflector.get<T>(key, target as never);
    const methodOptions = get<CacheableOptions>(CACHEABLE_METADATA, handler);
    const classOptions = get<CacheableOptions>(CACHEABLE_METADATA, controller);
    const excluded =
      get<boolean>(NO_CACHE_METADATA, handler) === true ||
      (methodOptions === undefined && get<boolean>(NO_CACHE_METADATA, controller) === true);
    const invalidate =
      get<TagSpec<InvalidationContext>[]>(INVALIDATE_TAGS_METADATA, handler) ??
      get<TagSpec<InvalidationContext>[]>(INVALIDATE_TAGS_METADATA, controller);
    const options =
      excluded || (methodOptions === undefined && classOptions === undefined) ? undefined : { ...classOptions, ...methodOptions };
    if (options === undefined && invalidate === undefined) return null;
    return { cache: options === undefined ? undefined : this.cachePlan(options), invalidate };
  }

  private cachePlan(options: CacheableOptions): CachePlan {
    const scope = options.scope ?? 'public';
    const varyBy = (options.varyBy ?? []).map((h) => h.toLowerCase());
    const vary = [
      ...(scope === 'public' ? [] : ['Authorization']),
      ...(this.options.compressAboveBytes === undefined ? [] : ['Accept-Encoding']),
      ...varyBy,
    ];
    const ttlMs = options.ttl === undefined ? this.options.ttlMs : seconds('ttl', options.ttl, 0.001);
    const mustRevalidate = options.mustRevalidate ?? this.options.mustRevalidate;
    const window = (value: number | undefined, fallbackMs: number) =>
      mustRevalidate ? 0 : value === undefined ? fallbackMs : seconds('stale window', value);
    const staleWhileRevalidateMs = window(options.staleWhileRevalidate, this.options.staleWhileRevalidateMs);
    const staleIfErrorMs = window(options.staleIfError, this.options.staleIfErrorMs);
    return {
      ttlMs,
      staleWhileRevalidateMs,
      staleIfErrorMs,
      retentionMs: ttlMs + Math.max(staleWhileRevalidateMs, staleIfErrorMs),
      tags: options.tags ?? [],
      varyBy,
      scope,
      cacheControl: renderCacheControl(options.cacheControl, scope),
      vary: vary.length === 0 ? undefined : vary.join(', '),
      key: options.key,
      statuses: options.statuses === undefined ? this.options.cacheableStatuses : validateStatuses('statuses', options.statuses),
    };
  }
}

const gzipAsync = promisify(gzip);

/** The ETag of the gzip representation: the identity one with a `-gzip` suffix inside the quotes. */
function gzipEtag(etag: string): string {
  return `${etag.slice(0, -1)}-gzip"`;
}

/** RFC 9110 §12.5.3: gzip (or x-gzip, or *) with a q-value above 0. */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  let gzipQ: number | undefined;
  let anyQ: number | undefined;
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (coding === 'gzip' || coding === 'x-gzip') gzipQ = Number.isNaN(q) ? 0 : q;
    else if (coding === '*') anyQ = Number.isNaN(q) ? 0 : q;
  }
  return (gzipQ ?? anyQ ?? 0) > 0;
}

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function serialize(exchange: HttpExchange, value: unknown): { body: string; contentType: string } | undefined {
  if (!isSerializable(value)) return undefined;
  if (typeof value === 'string') {
    return { body: value, contentType: exchange.getHeader('content-type') ?? 'text/plain; charset=utf-8' };
  }
  return { body: JSON.stringify(value), contentType: exchange.getHeader('content-type') ?? 'application/json; charset=utf-8' };
}
