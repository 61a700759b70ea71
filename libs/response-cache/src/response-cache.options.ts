import type { ExecutionContext } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Clock, systemClock } from './clock';
import { ResponseCacheConfigError } from './response-cache.errors';
import { CacheStore } from './store/cache-store';
import { DEFAULT_MAX_MEMORY_BYTES, MemoryCacheStore } from './store/memory.store';
import { ResilientCacheStore } from './store/resilient.store';
import type { StampedeLock } from './store/stampede-lock';
import type { ResponseCacheMetricsOptions } from './observability/response-cache-metrics';

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
 * A tag: a string, where `{name}` is replaced by the route param `name` (`'user:{id}'`), or a
 * function of the request (and, for invalidation, of the handler's result).
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
}

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
  /**
   * Bound on any single operation of a remote store, in ms (past it, the request goes on without
   * the cache). Default 100, at most 250.
   */
  opTimeoutMs?: number;
  /** Circuit breaker around a remote store. Default `{ failureThreshold: 5, cooldownMs: 5000 }`. */
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
  /** Verified user identity for `scope: 'user'`. Default: `request.user.id ?? .sub ?? .username`. */
  userIdentity?: IdentityResolver;
  /** Verified tenant identity for `scope: 'tenant'`. Default: `request.user.tenantId ?? request.tenantId`. */
  tenantIdentity?: IdentityResolver;
  /** Response headers kept in stored entries (besides the cache's own). Default below. */
  storedHeaders?: readonly string[];
  /** Log every hit, miss, bypass and invalidation as one JSON line. Default false. */
  logOperations?: boolean;
  /** Source of time (inject a fake one in tests). Default: the system clock. */
  clock?: Clock;
  /** Switch the cache off (every route answers BYPASS, detail `disabled`). Default true. */
  enabled?: boolean;
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
   * Cross-instance stampede protection (e.g. a `RedisStampedeLock`): a cold key across N
   * instances runs its handler about once. Default: none (single-flight stays per instance).
   */
  stampedeLock?: StampedeLock;
  /** How long an instance waits for another one's fill before running the handler itself, in ms. Default 2000. */
  stampedeWaitMs?: number;
  /** Limits of `GET /admin/cache/events` (Server-Sent Events). */
  eventStream?: EventStreamOptions;
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
   * The `Host` header of warming requests, which keys include: the host your clients use.
   * Default `localhost:<port>`.
   */
  host?: string;
}

/** Extras of the module definition (not part of the options object the services see). */
export interface ResponseCacheModuleExtras {
  /** Register the module globally (its services injectable everywhere). Default false. */
  isGlobal?: boolean;
  /** Mount the admin routes (`/admin/cache/…`, behind `adminToken`), the event stream and the dashboard. Default false. */
  adminRoutes?: boolean;
  /**
   * Register the Prometheus metrics (`cache_hits_total` …) through `@willsoto/nestjs-prometheus`:
   * `true` for prom-client's global registry (the one `PrometheusModule.register()` serves), or
   * `{ registry, buckets }`. Default false.
   */
  metrics?: boolean | ResponseCacheMetricsOptions;
}

export const DEFAULT_STORED_HEADERS: readonly string[] = ['content-type', 'content-language', 'content-location', 'link', 'x-total-count'];

/** Options after validation, with every default filled in. */
export interface ResolvedCacheOptions {
  /** The store, wrapped with timeouts and a circuit breaker unless it is local. */
  store: CacheStore;
  ttlMs: number;
  staleWhileRevalidateMs: number;
  staleIfErrorMs: number;
  mustRevalidate: boolean;
  cacheableStatuses: ReadonlySet<number>;
  cacheStatusName: string;
  bypassQueryParam: string | false;
  keyIncludesHost: boolean;
  maxKeyLength: number;
  userIdentity: IdentityResolver;
  tenantIdentity: IdentityResolver;
  storedHeaders: readonly string[];
  logOperations: boolean;
  clock: Clock;
  enabled: boolean;
  adminToken?: string;
  /** Bodies larger than this many bytes get a gzip copy; undefined: compression off. */
  compressAboveBytes?: number;
  warm: { paths: readonly WarmPath[]; onStartup: boolean; intervalMs: number; timeoutMs: number; host?: string };
  /** Per-process secret of warming requests (they refresh their entry). */
  refreshToken: string;
  stampedeLock?: StampedeLock;
  stampedeWaitMs: number;
  eventStream: Required<EventStreamOptions>;
}

interface RequestWithIdentity {
  user?: { id?: unknown; sub?: unknown; username?: unknown; tenantId?: unknown };
  tenantId?: unknown;
}

function asIdentity(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export const defaultUserIdentity: IdentityResolver = (context) => {
  const user = context.switchToHttp().getRequest<RequestWithIdentity>().user;
  return asIdentity(user?.id) ?? asIdentity(user?.sub) ?? asIdentity(user?.username);
};

export const defaultTenantIdentity: IdentityResolver = (context) => {
  const request = context.switchToHttp().getRequest<RequestWithIdentity>();
  return asIdentity(request.user?.tenantId) ?? asIdentity(request.tenantId);
};

/** Seconds → ms, refusing anything that is not a finite number ≥ `min`. */
export function seconds(option: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ResponseCacheConfigError(
      option,
      `expected a number of seconds ≥ ${min}, got ${JSON.stringify(value)}`,
      'TTLs and windows are in seconds, e.g. { ttl: 60 } for one minute.',
    );
  }
  return Math.round(value * 1000);
}

export function validateStatuses(option: string, value: unknown): ReadonlySet<number> {
  if (!Array.isArray(value) || value.some((s) => !Number.isInteger(s) || (s as number) < 200 || (s as number) > 599)) {
    throw new ResponseCacheConfigError(
      option,
      `expected an array of HTTP status codes (200–599), got ${JSON.stringify(value)}`,
      'Use e.g. [200, 203, 404].',
    );
  }
  return new Set(value as number[]);
}

function requireFunction(option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new ResponseCacheConfigError(option, `expected a function, got ${typeof value}`, 'Pass (context) => string | undefined.');
  }
}

function resolveWarm(warm: WarmOptions | undefined): ResolvedCacheOptions['warm'] {
  const paths = warm?.paths ?? [];
  for (const item of paths) {
    const path = typeof item === 'string' ? item : item?.path;
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new ResponseCacheConfigError(
        'warm.paths',
        `${JSON.stringify(item)} is not a path`,
        'Use paths that start with "/", e.g. ["/api/users"].',
      );
    }
  }
  return {
    paths,
    onStartup: warm?.onStartup ?? true,
    intervalMs: seconds('warm.intervalSeconds', warm?.intervalSeconds ?? 0),
    timeoutMs: warm?.timeoutMs ?? 5000,
    host: warm?.host,
  };
}

function resolveEventStream(options: EventStreamOptions | undefined): Required<EventStreamOptions> {
  const resolved = { maxEventsPerSecond: 200, bufferSize: 256, maxClients: 10, ...options };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new ResponseCacheConfigError(
        `eventStream.${name}`,
        `expected a whole number ≥ 1, got ${JSON.stringify(value)}`,
        'Leave it unset for the default.',
      );
    }
  }
  return resolved;
}

function compressionThreshold(option: ResponseCacheModuleOptions['compression']): number | undefined {
  if (option?.enabled === false) return undefined;
  const threshold = option?.thresholdBytes ?? 1024;
  if (!Number.isInteger(threshold) || threshold < 0) {
    throw new ResponseCacheConfigError(
      'compression.thresholdBytes',
      `expected a whole number of bytes ≥ 0, got ${JSON.stringify(threshold)}`,
      'In the demo, set CACHE_COMPRESSION_THRESHOLD_BYTES, e.g. 1024.',
    );
  }
  return threshold;
}

/** Validates user options and fills in the defaults; throws a {@link ResponseCacheConfigError}. */
export function resolveOptions(options: ResponseCacheModuleOptions = {}): ResolvedCacheOptions {
  const clock = options.clock ?? systemClock;
  const maxMemoryBytes = options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
  if (!Number.isInteger(maxMemoryBytes) || maxMemoryBytes < 1024) {
    throw new ResponseCacheConfigError(
      'maxMemoryBytes',
      `expected a whole number of bytes ≥ 1024, got ${JSON.stringify(options.maxMemoryBytes)}`,
      'In the demo, set CACHE_MAX_MEMORY_MB to a positive number of megabytes.',
    );
  }
  const configured = options.store ?? new MemoryCacheStore({ maxSizeBytes: maxMemoryBytes, clock });
  if (typeof configured.get !== 'function' || typeof configured.set !== 'function') {
    throw new ResponseCacheConfigError(
      'store',
      'not a CacheStore',
      'Pass an instance of MemoryCacheStore or another CacheStore implementation.',
    );
  }
  const opTimeoutMs = options.opTimeoutMs ?? 100;
  if (!Number.isInteger(opTimeoutMs) || opTimeoutMs < 1 || opTimeoutMs > 250) {
    throw new ResponseCacheConfigError(
      'opTimeoutMs',
      `expected whole milliseconds from 1 to 250, got ${JSON.stringify(opTimeoutMs)}`,
      'In the demo, set CACHE_OP_TIMEOUT_MS, e.g. 100.',
    );
  }
  const breaker = options.circuitBreaker ?? {};
  for (const [field, value] of Object.entries(breaker)) {
    if (value !== undefined && (!Number.isInteger(value) || (value as number) < 1)) {
      throw new ResponseCacheConfigError(
        `circuitBreaker.${field}`,
        `expected a positive whole number, got ${JSON.stringify(value)}`,
        'e.g. { failureThreshold: 5, cooldownMs: 5000 }.',
      );
    }
  }
  // A store that can hang (anything remote) gets a timeout and a circuit breaker around it.
  // The breaker keeps real time: the cache clock (a fake one in tests) governs freshness only.
  const store =
    configured.local === true || configured instanceof ResilientCacheStore
      ? configured
      : new ResilientCacheStore(configured, { timeoutMs: opTimeoutMs, ...breaker });
  const name = options.cacheStatusName ?? 'ResponseCache';
  if (!/^[A-Za-z*][A-Za-z0-9_\-.:/*%]*$/.test(name)) {
    throw new ResponseCacheConfigError(
      'cacheStatusName',
      `"${name}" is not an RFC 8941 token`,
      'Use letters, digits and - _ . : / only, starting with a letter.',
    );
  }
  const bypass = options.bypassQueryParam ?? 'nocache';
  if (bypass !== false && (typeof bypass !== 'string' || bypass === '')) {
    throw new ResponseCacheConfigError('bypassQueryParam', 'expected a non-empty string or false', 'Use e.g. "nocache".');
  }
  const maxKeyLength = options.maxKeyLength ?? 256;
  if (!Number.isInteger(maxKeyLength) || maxKeyLength < 64) {
    throw new ResponseCacheConfigError(
      'maxKeyLength',
      `expected a whole number ≥ 64, got ${JSON.stringify(maxKeyLength)}`,
      'Use e.g. 256.',
    );
  }
  requireFunction('userIdentity', options.userIdentity);
  requireFunction('tenantIdentity', options.tenantIdentity);
  const storedHeaders = options.storedHeaders ?? DEFAULT_STORED_HEADERS;
  if (!Array.isArray(storedHeaders) || storedHeaders.some((h) => typeof h !== 'string')) {
    throw new ResponseCacheConfigError('storedHeaders', 'expected an array of header names', 'Use e.g. ["content-type"].');
  }
  return {
    store,
    ttlMs: seconds('ttl', options.ttl ?? 300, 0.001),
    staleWhileRevalidateMs: seconds('staleWhileRevalidate', options.staleWhileRevalidate ?? 0),
    staleIfErrorMs: seconds('staleIfError', options.staleIfError ?? 0),
    mustRevalidate: options.mustRevalidate ?? false,
    cacheableStatuses: validateStatuses('cacheableStatuses', options.cacheableStatuses ?? [200]),
    cacheStatusName: name,
    bypassQueryParam: bypass,
    keyIncludesHost: options.keyIncludesHost ?? true,
    maxKeyLength,
    userIdentity: options.userIdentity ?? defaultUserIdentity,
    tenantIdentity: options.tenantIdentity ?? defaultTenantIdentity,
    storedHeaders: storedHeaders.map((h) => h.toLowerCase()),
    logOperations: options.logOperations ?? false,
    clock,
    enabled: options.enabled ?? true,
    compressAboveBytes: compressionThreshold(options.compression),
    warm: resolveWarm(options.warm),
    refreshToken: randomBytes(18).toString('base64url'),
    stampedeLock: options.stampedeLock,
    stampedeWaitMs: options.stampedeWaitMs ?? 2000,
    eventStream: resolveEventStream(options.eventStream),
    adminToken: options.adminToken === undefined || options.adminToken.trim() === '' ? undefined : options.adminToken.trim(),
  };
}
