/**
 * The edge: a CDN or reverse proxy in front of the app (Varnish, Fastly, Cloudflare, or anything
 * that caches by surrogate key and purges by it). An adapter says how the edge reads tags and
 * freshness from a response, and how it is purged. The built-in ones are `varnishEdge`,
 * `fastlyEdge` and `cloudflareEdge`; a custom edge implements this interface.
 */
export interface EdgeAdapter {
  /** The `edge` label of `cache_edge_purges_total`, and the name in logs and the admin API. */
  readonly name: string;
  /** The response header that carries the surrogate keys (`xkey`, `Surrogate-Key`, `Cache-Tag`). */
  readonly tagHeader: string;
  /** The response header that tells the edge how long it may keep a response (`CDN-Cache-Control`, `Surrogate-Control`). */
  readonly ttlHeader: string;
  /** What the edge accepts in {@link tagHeader}; a response whose keys do not fit is not cacheable at the edge. */
  readonly limits: EdgeKeyLimits;
  /** Most keys one purge request may name (Fastly 256, Cloudflare 30 by default); larger purges are batched. */
  readonly maxKeysPerPurge: number;
  /**
   * Purges every object carrying one of `keys` (at most {@link maxKeysPerPurge}). Resolves when the
   * edge has acknowledged it; rejects on any failure ({@link EdgePurgeError} with `retryAfterMs`
   * when the edge asks to wait); must give up when `options.signal` aborts.
   */
  purge(keys: readonly string[], options: EdgePurgeOptions): Promise<void>;
}

export interface EdgePurgeOptions {
  /** Mark stale instead of removing: the edge may serve the old object while it refetches. */
  readonly soft: boolean;
  readonly signal: AbortSignal;
}

/** What an edge accepts in its tag header. */
export interface EdgeKeyLimits {
  /** Between keys in the header: `' '` (xkey, Surrogate-Key) or `','` (Cache-Tag). */
  readonly separator: ' ' | ',';
  /** Most bytes of the header's value. */
  readonly maxHeaderBytes: number;
  /** Most keys on one response. */
  readonly maxKeys: number;
}

/** A purge the edge refused or did not answer; `retryAfterMs` when it said how long to wait (429 `Retry-After`). */
export class EdgePurgeError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'EdgePurgeError';
  }
}

/** The module's `edge` option. */
export interface EdgeOptions {
  /** Which edge sits in front: `varnishEdge({ urls })`, `fastlyEdge({...})`, `cloudflareEdge({...})` or your own adapter. */
  adapter: EdgeAdapter;
  /** Seconds the edge may keep a public cached response (`edgeTtl`); default: the route's `ttl`. Separate from the browser's `max-age`. */
  ttl?: number;
  /** Seconds the edge may serve a response stale while it refetches it (its grace); default 0. */
  staleWhileRevalidate?: number;
  /** Soft purge: the edge marks objects stale instead of removing them (Fastly `Fastly-Soft-Purge: 1`, Varnish `xkey.softpurge`). Default false. */
  softPurge?: boolean;
  /** How long a write waits for the edge's purge before it answers; default 1000 ms. The purge goes on in the background. */
  purgeTimeoutMs?: number;
  /**
   * A second purge of the same keys this long after the first (default 2000 ms; 0: none): a
   * response that left the app before the write and reached the edge after its purge is purged
   * too. The purge window is bounded by this delay.
   */
  repurgeAfterMs?: number;
}

/** The route's `edge` option: false keeps the route's responses off the edge; an object overrides the module's. */
export type RouteEdgeOptions = false | { ttl?: number; staleWhileRevalidate?: number };

/** The module's `edge` option, checked. */
export interface ResolvedEdge {
  adapter: EdgeAdapter;
  /** Seconds; undefined: the route's ttl. */
  ttl: number | undefined;
  staleWhileRevalidate: number;
  softPurge: boolean;
  purgeTimeoutMs: number;
  repurgeAfterMs: number;
}
