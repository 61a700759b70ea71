import { LRUCache } from 'lru-cache';
import { renderCacheControl } from '../http/cache-control';
import { forbidsStale, responseFreshness, staleWindowsOf, understood } from '../http/freshness';
import type { HttpExchange } from '../http/http-exchange';
import type { KeyPlan } from '../key/request-key';
import type { CacheEntry } from '../store/cache-store';
import { seconds, validateStatuses } from '../options/option-checks';
import { CACHEABLE_METADATA, INVALIDATE_TAGS_METADATA, NO_CACHE_METADATA } from '../response-cache.constants';
import { ResponseCacheConfigError } from '../response-cache.errors';
import { USER_PLACEHOLDER } from '../key/tags';
import { RouteFacts, routeFacts } from './route-facts';
import type { RouteEdgeOptions } from '../edge/edge-adapter';
import { resolveRouteEdge } from '../options/edge-options';
import type { CacheScope, CacheableOptions, FreshnessMode, InvalidationContext, ResultTags, TagSpec } from '../response-cache.options';
import type { ResolvedCacheOptions } from '../options/resolve-options';

/** Everything about a route that does not depend on the request, computed once per handler. */
export interface CachePlan extends KeyPlan {
  ttlMs: number;
  /** Serve a stale entry at once and refresh it in the background, for this long past its TTL. */
  staleWhileRevalidateMs: number;
  /** Serve a stale entry instead of a 5xx or a thrown error, for this long past its TTL. */
  staleIfErrorMs: number;
  /** How long the store keeps an entry: its TTL plus the longer stale window. */
  retentionMs: number;
  tags: readonly TagSpec[];
  /** Tags of the handler's result, fenced race-safely (engine/fill-epoch.ts). */
  resultTags: ResultTags | undefined;
  varyBy: readonly string[];
  scope: CacheScope;
  /**
   * On a per-user or per-tenant route with `anonymous: 'public'`, the plan of callers without an
   * identity: shared by them all, with the route's public `Cache-Control`. Undefined: they bypass.
   */
  anonymous?: CachePlan;
  cacheControl: string | undefined;
  vary: string | undefined;
  key: CacheableOptions['key'];
  statuses: ReadonlySet<number>;
  /** Where freshness comes from: the route's ttl, or the response (RFC 9111). */
  freshness: FreshnessMode;
  /** In 'response' mode, the lifetime of a response without explicit freshness (the decorator's ttl), if any. */
  heuristicMs: number | undefined;
  mustRevalidate: boolean;
  /**
   * Hits of this route may be answered by the fast lane: it is on, the route is public, has no
   * `key` function, no guard in effect (global, controller or method), and the URL alone chooses
   * its handler (no header, media-type or custom versioning, no host routing).
   */
  lane: boolean;
  /** `GET /users/:id (UsersController.findOne)`, for logs. */
  label: string;
  /** Lower-case names of the headers the route sets with `@Header()`. */
  routeHeaders: ReadonlySet<string>;
  /**
   * Per request target (host, path, query), the request headers its responses named in `Vary`,
   * learned from fills: keys hold their values, so the variants of one URL are stored side by side.
   * Bounded (the most recently used 10,000 targets of the route); made at the first `Vary`.
   */
  learnedVary?: LRUCache<string, readonly string[]>;
  /** The route's `edge` option (the module's `edge` decides whether there is one). */
  edge?: RouteEdgeOptions;
}

export interface RoutePlan {
  cache?: CachePlan;
  invalidate?: readonly TagSpec<InvalidationContext>[];
  /** Why a `@Cacheable` route is not cached (it would change the answer), said once at startup. */
  refused?: string;
  /** `POST /users/:id (UsersController.update)`, for logs. */
  label: string;
}

/** What the app says that decides a route's plan beyond its own metadata. */
export interface AppFacts {
  /** A global guard (`useGlobalGuards`, `APP_GUARD`). */
  globalGuards(): boolean;
  /** Versioning by header, media type or a custom extractor: the URL alone does not choose the handler. */
  nonUriVersioning(): boolean;
  /** Some controller is host-routed: a URL alone may reach it or another route. */
  hostRouting(): boolean;
  /** Why no route of the app can be cached without changing its answers, if none can. */
  refusal(): string | undefined;
}

const NO_APP_FACTS: AppFacts = {
  globalGuards: () => false,
  nonUriVersioning: () => false,
  hostRouting: () => false,
  refusal: () => undefined,
};

/**
 * Reads a handler's `@Cacheable`, `@InvalidateTags` and `@NoCache` (method first, then class)
 * into its plan, once per handler: null for a route the cache leaves alone. The module builds
 * every route's plan at startup ({@link RouteCatalog}), so that a plan's errors stop the startup.
 */
export class RoutePlans {
  private readonly plans = new WeakMap<object, RoutePlan | null>();

  constructor(
    private readonly options: ResolvedCacheOptions,
    private readonly app: AppFacts = NO_APP_FACTS,
  ) {}

  of(handler: object, controller: object): RoutePlan | null {
    let plan = this.plans.get(handler);
    if (plan === undefined) {
      plan = this.build(handler as (...args: unknown[]) => unknown, controller as new (...args: never[]) => unknown);
      this.plans.set(handler, plan);
    }
    return plan;
  }

  private build(handler: (...args: unknown[]) => unknown, controller: new (...args: never[]) => unknown): RoutePlan | null {
    const get = <T>(key: string, target: object): T | undefined => Reflect.getMetadata(key, target) as T | undefined;
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
    const facts = routeFacts(handler, controller);
    checkTemplates(facts, options?.tags, '@Cacheable', options?.scope === 'user');
    checkTemplates(facts, invalidate, '@InvalidateTags', true);
    if (options === undefined) return { invalidate, label: facts.label };
    const refused = facts.refusal ?? this.app.refusal();
    if (refused !== undefined) return { invalidate, refused, label: facts.label };
    return { cache: this.cachePlan(options, facts), invalidate, label: facts.label };
  }

  private cachePlan(options: CacheableOptions, facts: RouteFacts): CachePlan {
    const unguarded = !this.app.globalGuards() && !facts.guarded;
    // With header, media-type or custom versioning, the same URL may reach a versioned handler.
    const urlChoosesHandler = !facts.hostRouted && !this.app.nonUriVersioning() && !this.app.hostRouting();
    const scope = options.scope ?? 'public';
    const varyBy = (options.varyBy ?? []).map((h) => h.toLowerCase());
    const vary = [
      ...(scope === 'public' ? [] : ['Authorization']),
      ...(this.options.compressAboveBytes === undefined ? [] : ['Accept-Encoding']),
      ...varyBy,
    ];
    const timing = routeTiming(options, this.options);
    const { freshness } = timing;
    const plan: CachePlan = {
      ...timing,
      lane: this.options.fastLane && unguarded && urlChoosesHandler && scope === 'public' && options.key === undefined,
      handlerId: facts.handlerId,
      hostRouted: facts.hostRouted,
      label: facts.label,
      routeHeaders: facts.routeHeaders,
      tags: options.tags ?? [],
      resultTags: options.resultTags,
      varyBy,
      scope,
      // In 'response' mode the cache writes no Cache-Control of its own.
      cacheControl: freshness === 'response' ? undefined : renderCacheControl(options.cacheControl, scope),
      vary: vary.length === 0 ? undefined : vary.join(', '),
      key: options.key,
      statuses: options.statuses === undefined ? this.options.cacheableStatuses : validateStatuses('statuses', options.statuses),
      edge: resolveRouteEdge(options.edge),
    };
    if (options.anonymous !== 'public' || scope === 'public') return plan;
    // Anonymous callers share one public partition: a public route's Cache-Control, no fast lane.
    const publicControl = freshness === 'response' ? undefined : renderCacheControl(options.cacheControl, 'public');
    return { ...plan, anonymous: { ...plan, scope: 'public', cacheControl: publicControl } };
  }
}

type RouteTiming = Pick<
  CachePlan,
  'freshness' | 'heuristicMs' | 'mustRevalidate' | 'ttlMs' | 'staleWhileRevalidateMs' | 'staleIfErrorMs' | 'retentionMs'
>;

/** A route's freshness, stale windows and how long its entries are kept, from its options and the module's. */
function routeTiming(options: CacheableOptions, module: ResolvedCacheOptions): RouteTiming {
  const ttlMs = options.ttl === undefined ? module.ttlMs : seconds('ttl', options.ttl, 0.001);
  const mustRevalidate = options.mustRevalidate ?? module.mustRevalidate;
  const window = (value: number | undefined, fallbackMs: number) =>
    mustRevalidate ? 0 : value === undefined ? fallbackMs : seconds('stale window', value);
  const staleWhileRevalidateMs = window(options.staleWhileRevalidate, module.staleWhileRevalidateMs);
  const staleIfErrorMs = window(options.staleIfError, module.staleIfErrorMs);
  const freshness = options.freshness ?? module.freshness;
  return {
    freshness,
    // In 'response' mode only the decorator's own ttl is a heuristic; the module's default is not.
    heuristicMs: freshness === 'response' && options.ttl !== undefined ? ttlMs : undefined,
    mustRevalidate,
    ttlMs,
    staleWhileRevalidateMs,
    staleIfErrorMs,
    retentionMs: ttlMs + Math.max(staleWhileRevalidateMs, staleIfErrorMs),
  };
}

/**
 * A tag template may name only parameters that every path of its route has: `user:{id}` on
 * `POST /users` is an error at startup, naming the route, the template and the parameter.
 * `{user}` (the caller's identity) needs a route that can have one: a write, or `scope: 'user'`.
 */
function checkTemplates(facts: RouteFacts, specs: readonly TagSpec<never>[] | undefined, decorator: string, userAllowed: boolean): void {
  for (const spec of specs ?? []) {
    if (typeof spec !== 'string') continue;
    for (const [, name] of spec.matchAll(/\{([^{}]+)\}/g)) {
      if (name === USER_PLACEHOLDER) {
        checkUserPlaceholder(facts, spec, decorator, userAllowed);
        continue;
      }
      if (facts.params.every((params) => params.includes(name))) continue;
      throw new ResponseCacheConfigError(
        `${decorator} on ${facts.label}`,
        `tag template "${spec}" names the parameter "${name}", which the route's path does not have (its parameters: ${
          [...new Set(facts.params.flat())].join(', ') || 'none'
        })`,
        `Use a parameter of the path, or a tag function (ctx) => ... for anything else.`,
      );
    }
  }
}

function checkUserPlaceholder(facts: RouteFacts, spec: string, decorator: string, userAllowed: boolean): void {
  const where = `${decorator} on ${facts.label}`;
  if (facts.params.some((params) => params.includes(USER_PLACEHOLDER))) {
    throw new ResponseCacheConfigError(
      where,
      `tag template "${spec}" names {user}, which is the caller's identity, and the route also has a parameter "user"`,
      'Rename the parameter, or use a tag function (ctx) => ... for it.',
    );
  }
  if (!userAllowed) {
    throw new ResponseCacheConfigError(
      where,
      `tag template "${spec}" names {user}, the caller's identity, and the route's entries are not per user`,
      'Add scope: "user" to the @Cacheable options, or drop {user} from its tags.',
    );
  }
}

const NONE: ReadonlySet<number> = new Set();

/**
 * Statuses that may be stored: the route's list; in 'response' mode, RFC 9110's heuristically
 * cacheable ones (with the decorator's ttl) and any status with explicit freshness.
 */
export function storableStatuses(exchange: HttpExchange, plan: CachePlan, now: number): ReadonlySet<number> {
  if (plan.freshness === 'ttl') return plan.statuses;
  const status = exchange.status();
  if (!understood(exchange.getHeader('cache-control'), status)) return NONE;
  return responseFreshness((name) => exchange.getHeader(name), status, now, plan.heuristicMs) === undefined ? NONE : new Set([status]);
}

/** How long past its freshness an entry may still be served: the route's windows, or the response's own. */
export function staleWindows(plan: CachePlan, entry: CacheEntry): { staleWhileRevalidateMs: number; staleIfErrorMs: number } {
  const cacheControl = entry.headers['cache-control'];
  if (plan.mustRevalidate || (cacheControl !== undefined && forbidsStale(cacheControl))) return NO_STALE;
  return plan.freshness === 'ttl' ? plan : staleWindowsOf(cacheControl);
}

const NO_STALE = { staleWhileRevalidateMs: 0, staleIfErrorMs: 0 };

/** Keys of `target` hold the request headers its responses vary on (at most 8), from now on; true when that added one. */
export function learnVary(plan: CachePlan, target: string, names: readonly string[]): boolean {
  plan.learnedVary ??= new LRUCache({ max: 10_000 });
  const known = plan.learnedVary.get(target) ?? [];
  const added = names.filter((name) => !known.includes(name));
  if (added.length === 0) return false;
  plan.learnedVary.set(target, [...known, ...added].slice(0, 8));
  return true;
}

/** The request headers that key `target` on this route: its `varyBy`, then those its responses vary on. */
export function keyedHeaders(plan: CachePlan, target: string): readonly string[] {
  const learned = plan.learnedVary?.get(target);
  return learned === undefined ? plan.varyBy : [...plan.varyBy, ...learned];
}
