import type { ExecutionContext } from '@nestjs/common';
import type { Clock } from './clock';
import type { CacheStore } from './store/cache-store';
import type { StampedeLock } from './store/stampede-lock';
import type { CacheMetricsIntegration } from './observability/metrics-sink';
import type { EdgeOptions, RouteEdgeOptions } from './edge/edge-adapter';

/**
 * Who may share a cached response.
 * - `public`: everyone (the default). Requests with `Authorization` or a cookie are not cached.
 * - `user`: one entry per verified user; the key holds the hashed identity, the response says
 *   `Cache-Control: private` and `Vary: Authorization`.
 * - `tenant`: one entry per verified tenant, likewise.
 */
export type CacheScope = 'public' | 'user' | 'tenant';

/** What tag functions and key functions see of the request. */
export interface CacheRequestContext {
  /** The Nest execution context (for `switchToHttp().getRequest()` and the like). */
  readonly context: ExecutionContext;
  /** Route params, as the handler sees them. */
  readonly params: Readonly<Record<string, string>>;
  /** Parsed query, as the handler sees them. */
  readonly query: Readonly<Record<string, unknown>>;
}

/** `@InvalidateTags()` functions also see the handler's result. */
export interface InvalidationContext extends CacheRequestContext {
  readonly result: unknown;
}

/**
 * A tag: a string, where `{name}` is replaced by the route param `name` (`'user:{id}'`) and
 * `{user}` by the caller's verified user identity, hashed (HMAC-SHA256 under `identitySecret`, as
 * in keys: no tag, log or event carries a raw id); or a function of the request (and, for
 * invalidation, of the handler's result).
 */
export type TagSpec<C = CacheRequestContext> = string | ((ctx: C) => string | readonly string[] | undefined | null);

/** Client-facing `Cache-Control`, as directives. All durations are in seconds. */
export interface CacheControlDirectives {
  /**
   * `public`: shared caches may store it even for requests with `Authorization`. Only for
   * content that is the same for everyone. Ignored on per-user and per-tenant routes.
   */
  public?: boolean;
  /** `max-age=N`: how long browsers and other caches may reuse the response unchecked. */
  maxAge?: number;
  /** `s-maxage=N`: the same, for shared caches (CDNs) only. Not allowed on per-user routes. */
  sMaxAge?: number;
  /** `no-cache`: caches may store it but must revalidate (cheap with the ETag) before reuse. */
  noCache?: boolean;
  /** `must-revalidate`. */
  mustRevalidate?: boolean;
  /** `immutable`. */
  immutable?: boolean;
  /** `stale-while-revalidate=N` (RFC 5861), for downstream caches. */
  staleWhileRevalidate?: number;
  /** `stale-if-error=N` (RFC 5861), for downstream caches. */
  staleIfError?: number;
}

/** Options of `@Cacheable()`. Every duration is in seconds. */
export interface CacheableOptions {
  /** Server-side freshness in seconds. Default: the module's `ttl` (300). */
  ttl?: number;
  /** Tags the entry belongs to, for `@InvalidateTags()` and `invalidateTags()`. Default: none. */
  tags?: readonly TagSpec[];
  /** Request headers whose values split the cache (listed in `Vary`). Default: none. */
  varyBy?: readonly string[];
  /** Who may share an entry. Default: `public`. */
  scope?: CacheScope;
  /**
   * On a `user` or `tenant` route, what a request without a verified identity gets. `'bypass'`
   * (the default): the handler's answer, not cached. `'public'`: one entry per URL shared by every
   * anonymous caller, in a partition of its own that no identity reaches, sent with the
   * `Cache-Control` the route would have if it were public (identified callers still get `private`).
   */
  anonymous?: AnonymousPolicy;
  /**
   * Tags computed from the handler's result (the value that left every interceptor), e.g.
   * `(page: PostPage) => page.posts.map((p) => \`post:${p.id}\`)`: a write to one post then
   * invalidates only the entries that hold it. The entry is fenced by them race-safely: it is not
   * stored when any invalidation lands while its handler runs (see the README).
   */
  resultTags?: ResultTags;
  /**
   * Client-facing `Cache-Control`: a literal header value, directives, or `false` to leave the
   * header alone. Default: `no-cache, max-age=0` (public routes) or `private, no-cache, max-age=0`
   * (per-user and per-tenant routes): clients keep a copy and revalidate it with the ETag, because the
   * server-side invalidation cannot reach their caches. `private` is always added on per-user
   * and per-tenant routes.
   */
  cacheControl?: string | CacheControlDirectives | false;
  /**
   * Replaces the method + host + path + query part of the key. The scope's identity and the
   * `varyBy` headers are still added, so a custom key can never be shared across users.
   */
  key?: (ctx: CacheRequestContext) => string;
  /** Response statuses that may be stored. Default: the module's `cacheableStatuses` ([200]). */
  statuses?: readonly number[];
  /**
   * Seconds past the TTL during which a stale entry is served at once while one background
   * refresh runs (RFC 5861). Default: the module's `staleWhileRevalidate` (0).
   */
  staleWhileRevalidate?: number;
  /**
   * Seconds past the TTL during which a stale entry is served instead of a 5xx or a thrown error
   * (RFC 5861). Default: the module's `staleIfError` (0).
   */
  staleIfError?: number;
  /** Never serve this route stale, whatever the windows say. Default: the module's (false). */
  mustRevalidate?: boolean;
  /**
   * Where freshness comes from. `'ttl'`: the route's `ttl` (the cache's own policy). `'response'`:
   * the route is an RFC 9111 shared cache in front of its handler: freshness from the response's
   * `s-maxage`, `max-age` or `Expires`, less its `Age`; without those, stored only when this
   * decorator gives a `ttl` (the heuristic); stale windows from the response's directives; the cache
   * writes no `Cache-Control` of its own. Default: the module's `freshness` (`'ttl'`).
   */
  freshness?: FreshnessMode;
  /**
   * The edge in front of the app (module `edge` option): `false` keeps this route's responses
   * off the edge; `{ ttl, staleWhileRevalidate }` (seconds) overrides the module's edge lifetime.
   */
  edge?: RouteEdgeOptions;
}

/** What a request without an identity gets on a per-user or per-tenant route: see `CacheableOptions.anonymous`. */
export type AnonymousPolicy = 'bypass' | 'public';

/** Tags of a handler's result: type `result` as your handler's (a function of any result type fits). */
export type ResultTags = (result: never, ctx: CacheRequestContext) => string | readonly string[] | undefined | null;

/** Where a route's freshness comes from: its `ttl`, or the response (RFC 9111). */
export type FreshnessMode = 'ttl' | 'response';

/** Resolves the verified identity of the caller for `scope: 'user'` / `'tenant'`. */
export type IdentityResolver = (context: ExecutionContext) => string | undefined | null;

/** Options of `ResponseCacheModule.forRoot()`. Every duration is in seconds. */
export interface ResponseCacheModuleOptions {
  /**
   * The store: a {@link CacheStore} instance. Default: a {@link MemoryCacheStore} bounded by
   * `maxMemoryBytes`.
   */
  store?: CacheStore;
  /** Default server-side TTL in seconds for routes that do not set one. Default 300. */
  ttl?: number;
  /** Default stale-while-revalidate window in seconds. Default 0. */
  staleWhileRevalidate?: number;
  /** Default stale-if-error window in seconds. Default 0. */
  staleIfError?: number;
  /** Never serve stale entries (overrides every window). Default false. */
  mustRevalidate?: boolean;
  /** Default `freshness` of routes: `'ttl'` or `'response'` (see `@Cacheable`). Default `'ttl'`. */
  freshness?: FreshnessMode;
  /**
   * Bounds around a remote store: each operation waits at most `opTimeoutMs` (1–250, default 100;
   * past it the request goes on without the cache), and a circuit breaker opens after
   * `failureThreshold` consecutive failures (default 5) for `cooldownMs` (default 5000).
   */
  resilience?: { opTimeoutMs?: number; failureThreshold?: number; cooldownMs?: number };
  /** @deprecated since 0.2, goes in 0.3: use `resilience: { opTimeoutMs }`. */
  opTimeoutMs?: number;
  /** @deprecated since 0.2, goes in 0.3: use `resilience: { failureThreshold, cooldownMs }`. */
  circuitBreaker?: { failureThreshold?: number; cooldownMs?: number };
  /** Bound of the default memory store, in bytes of stored entries. Default 100 MiB. */
  maxMemoryBytes?: number;
  /** Response statuses that may be stored. Default [200]. */
  cacheableStatuses?: readonly number[];
  /** The cache's name in `Cache-Status` (RFC 9211). Default `ResponseCache`. */
  cacheStatusName?: string;
  /** Query parameter that skips the cache when `true` (dropped from keys). `false` disables. Default `nocache`. */
  bypassQueryParam?: string | false;
  /** Include the `Host` header in keys. Default true. */
  keyIncludesHost?: boolean;
  /** Keys longer than this many characters are replaced by a SHA-256 digest. Default 256. */
  maxKeyLength?: number;
  /**
   * Who the caller is on `scope: 'user'` and `'tenant'` routes, and the secret their ids are
   * hashed with in keys and tags. Default: `request.user.id ?? .sub ?? .username` (user),
   * `request.user.tenantId ?? request.tenantId` (tenant), a random secret per process.
   */
  identity?: {
    /** The verified user for `scope: 'user'` (guards run before the cache). */
    user?: IdentityResolver;
    /** The verified tenant for `scope: 'tenant'`. */
    tenant?: IdentityResolver;
    /**
     * Secret of the keyed hash (HMAC-SHA256) of identities, so that no key, stat or event carries
     * an id that a list of names reverses. At least 16 characters. Instances that share a store
     * must share it too (or their per-user entries are neither shared nor invalidated by each
     * other's writes to the same URI).
     */
    secret?: string;
  };
  /** @deprecated since 0.2, goes in 0.3: use `identity: { user }`. */
  userIdentity?: IdentityResolver;
  /** @deprecated since 0.2, goes in 0.3: use `identity: { tenant }`. */
  tenantIdentity?: IdentityResolver;
  /** @deprecated since 0.2, goes in 0.3: use `identity: { secret }`. */
  identitySecret?: string;
  /**
   * Response headers never stored with an entry, besides those that never are (`Set-Cookie`,
   * hop-by-hop fields, fields named by `Connection`, `Content-Length`, `Date`). Every other header
   * the handler sets is stored and sent on hits. Default none.
   */
  excludedHeaders?: readonly string[];
  /** Log every hit, miss, bypass and invalidation as one JSON line. Default false. */
  logOperations?: boolean;
  /** Source of time (inject a fake one in tests). Default: the system clock. */
  clock?: Clock;
  /** Switch the cache off (every route answers BYPASS, detail `disabled`). Default true. */
  enabled?: boolean;
  /**
   * Answer hits after the platform has routed the request and run everything the app registered
   * for it (Fastify hooks, Express and Nest middleware), before Nest's guards, interceptors and
   * pipes: public `@Cacheable` routes without a guard or a `key` function, requests without
   * credentials, on the route that answered through Nest before. Default false.
   */
  fastLane?: boolean;
  /** Bearer token of the admin routes; unset, they answer 401 to everything. Default unset. */
  adminToken?: string;
  /**
   * Keep a gzip copy of stored bodies larger than `thresholdBytes` and send it as it is to
   * clients that accept gzip. Default `{ enabled: true, thresholdBytes: 1024 }`.
   */
  compression?: { enabled?: boolean; thresholdBytes?: number };
  /** Cache warming through the app's own HTTP pipeline. Default: no paths. */
  warm?: WarmOptions;
  /**
   * Cross-instance stampede protection: with a `lock` (e.g. a `RedisStampedeLock`) a cold key
   * across N instances runs its handler about once; each instance waits at most `waitMs` (default
   * 2000) for another one's fill before running the handler itself. Default: no lock
   * (single-flight stays per instance).
   */
  stampede?: { lock?: StampedeLock; waitMs?: number };
  /** @deprecated since 0.2, goes in 0.3: use `stampede: { lock }`. */
  stampedeLock?: StampedeLock;
  /** @deprecated since 0.2, goes in 0.3: use `stampede: { waitMs }`. */
  stampedeWaitMs?: number;
  /** Limits of `GET /admin/cache/events` (Server-Sent Events). */
  eventStream?: EventStreamOptions;
  /**
   * The CDN or reverse proxy in front of the app (Varnish, Fastly, Cloudflare, or your own
   * adapter): public cached responses carry their tags as its surrogate keys, and invalidating
   * tags purges it. Default: none. See docs/edge.md.
   */
  edge?: EdgeOptions;
}

/** Limits of the admin event stream: a slow or flooded client never makes the app buffer without bound. */
export interface EventStreamOptions {
  /** Events sent per second to one client; the rest are counted and reported in a `sampled` event. Default 200. */
  maxEventsPerSecond?: number;
  /** Events queued per client while its socket is not draining; the oldest are dropped beyond. Default 256. */
  bufferSize?: number;
  /** Concurrent streams; more get 429. Default 10. */
  maxClients?: number;
}

/** A path to warm (with the query), or a path with request headers (e.g. an Authorization). */
export type WarmPath = string | { path: string; headers?: Record<string, string> };

export interface WarmOptions {
  /** Paths to fetch. Default none. */
  paths?: readonly WarmPath[];
  /** Warm once the server listens. Default true. */
  onStartup?: boolean;
  /** Warm again every this many seconds; 0 turns the schedule off. Default 0. */
  intervalSeconds?: number;
  /** Bound on each warming request, in ms. Default 5000. */
  timeoutMs?: number;
  /**
   * The `Host` header of warming requests, which keys include (unless `keyIncludesHost` is off):
   * the host your clients use (`api.example.com`), or several, each path being warmed under each.
   * Default `localhost:<port>`, which only serves clients that use that host; a startup line says so.
   */
  host?: string | readonly string[];
}

/** Extras of the module definition (not part of the options object the services see). */
export interface ResponseCacheModuleExtras {
  /** Register the module globally (its services injectable everywhere). Default false. */
  isGlobal?: boolean;
  /** Mount the admin routes (`/admin/cache/…`, behind `adminToken`), the event stream and the dashboard. Default false. */
  adminRoutes?: boolean;
  /**
   * Metrics: `prometheusMetrics({ registry?, buckets? })` from `nestjs-response-cache/prometheus`
   * registers `cache_hits_total` … through `@willsoto/nestjs-prometheus`. Default: none.
   */
  metrics?: CacheMetricsIntegration;
}
