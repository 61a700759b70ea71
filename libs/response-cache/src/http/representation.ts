import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { CacheScope, FreshnessMode } from '../response-cache.options';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import { responseFreshness } from './freshness';
import type { CacheEntry, DraftEntry } from '../store/cache-store';
import { isNotModified } from './conditional-request';
import { weakEtag } from './etag';
import type { HttpExchange } from './http-exchange';
import { mergeVary, storableHeaders, variantOf, varyNames } from './stored-headers';

/** What the representation needs of a route's plan. */
export interface RepresentationPlan {
  ttlMs: number;
  freshness: FreshnessMode;
  heuristicMs: number | undefined;
  mustRevalidate: boolean;
  scope: CacheScope;
  /** The route's default `Cache-Control` (for handlers that set none). */
  cacheControl: string | undefined;
  /** The `Vary` names the route adds (its `varyBy`, `Authorization`, `Accept-Encoding`). */
  vary: string | undefined;
  /** Lower-case request headers the route's key holds (`varyBy`). */
  varyBy: readonly string[];
  /** Lower-case names of the headers the route sets with `@Header()` (Nest sets them before the cache runs). */
  routeHeaders: ReadonlySet<string>;
}

/** The response headers as they were when the cache began (set by middleware, hooks and guards). */
export type HeaderSnapshot = ReadonlyMap<string, string | undefined>;

/** The response's headers now, to tell later which ones the handler and the interceptors inside the cache set. */
export function snapshotHeaders(exchange: HttpExchange): HeaderSnapshot {
  return new Map(exchange.headerNames().map((name) => [name.toLowerCase(), exchange.getHeader(name)]));
}

/** An entry to store, and how long to keep it when its freshness came from the response. */
export interface Drafted {
  entry: DraftEntry;
  retainMs?: number;
}

const X_CACHE = 'X-Cache';
const CACHE_STATUS = 'Cache-Status';

/**
 * The outgoing representation: what a hit, a stale answer, a collapsed request or an uncached
 * response sends (status, stored headers, validators, `Age`, `X-Cache`, `Cache-Status`, gzip to
 * clients that accept it, 304 to conditional requests), and the entry a response is stored as.
 */
export class Representation {
  private readonly excluded: ReadonlySet<string>;

  constructor(private readonly options: Pick<ResolvedCacheOptions, 'clock' | 'compressAboveBytes' | 'excludedHeaders'>) {
    this.excluded = new Set(options.excludedHeaders);
  }

  /** `X-Cache` and `Cache-Status`, set in this one place. */
  status(exchange: HttpExchange, xCache: string, cacheStatus: string): void {
    exchange.setHeader(X_CACHE, xCache);
    exchange.setHeader(CACHE_STATUS, cacheStatus);
  }

  /** True when `entry` may answer this request: no variant, or the request's own (response `Vary`). */
  matchesVariant(exchange: HttpExchange, entry: CacheEntry, plan: RepresentationPlan): boolean {
    return entry.variant === undefined || entry.variant === variantOf(exchange.headers, this.variantNames(entry.headers.vary, plan));
  }

  /**
   * Writes a stored representation: the stored headers (the handler's, unchanged), the cache's
   * defaults only where the handler set none, validators, `Age`; returns the stored body as it
   * is, or nothing for a 304 (which carries no content headers).
   */
  represent(
    exchange: HttpExchange,
    plan: RepresentationPlan,
    entry: CacheEntry | DraftEntry,
    xCache: string,
    cacheStatus: string,
    hitAt?: number,
  ): unknown {
    // The gzip representation, to a client that accepts it; its ETag differs (RFC 9110 §8.8.3.3).
    // (Never over a coding of the handler's own: its body is sent as it gave it.)
    const gzip =
      entry.gzip !== undefined && entry.headers['content-encoding'] === undefined && acceptsGzip(exchange.headers['accept-encoding'])
        ? entry.gzip
        : undefined;
    const etag = gzip === undefined ? entry.etag : gzipEtag(entry.etag);
    const headers = entry.headers;
    const lastModified = headers['last-modified'];
    exchange.setHeader('ETag', etag);
    if (lastModified !== undefined) exchange.setHeader('Last-Modified', lastModified);
    // What middleware or hooks set on this response stays, as it does without the cache.
    this.defaults(
      exchange,
      plan,
      headers['cache-control'] ?? exchange.getHeader('cache-control'),
      mergeVary(exchange.getHeader('vary'), headers.vary),
    );
    this.status(exchange, xCache, cacheStatus);
    if (hitAt !== undefined) exchange.setHeader('Age', String(Math.max(0, Math.floor((hitAt - entry.storedAt) / 1000))));
    if (this.notModified(exchange, etag, lastModified, entry.storedAt)) return undefined;
    for (const name in headers) {
      if (name !== 'last-modified' && name !== 'cache-control' && name !== 'vary') exchange.setHeader(name, headers[name]);
    }
    exchange.setStatus(entry.status);
    if (gzip === undefined) return exchange.identityBody(entry);
    exchange.setHeader('Content-Encoding', 'gzip');
    return exchange.bytes(gzip);
  }

  /**
   * A response that is not stored keeps what the handler said; it gets the cache's defaults where
   * the handler set none, and validators and the 304 rules when it is a 200.
   */
  uncached(exchange: HttpExchange, plan: RepresentationPlan, value: unknown): unknown {
    this.defaults(exchange, plan, exchange.getHeader('cache-control'), exchange.getHeader('vary'));
    if (exchange.status() !== 200) return value;
    const serialized = exchange.serialize(value);
    if (serialized === undefined) return value;
    const etag = exchange.getHeader('etag') ?? weakEtag(serialized.body);
    const now = this.options.clock.now();
    const lastModified = exchange.getHeader('last-modified') ?? httpDate(now);
    exchange.setHeader('ETag', etag);
    exchange.setHeader('Last-Modified', lastModified);
    if (this.notModified(exchange, etag, lastModified, now)) return undefined;
    if (exchange.getHeader('content-type') === undefined) exchange.setHeader('Content-Type', serialized.contentType);
    return serialized.body;
  }

  /**
   * The route's `Cache-Control` only where the handler set none (on per-user routes `private` is
   * added to the handler's, never removed); its `Vary` names added to the handler's.
   */
  private defaults(exchange: HttpExchange, plan: RepresentationPlan, cacheControl: string | undefined, vary: string | undefined): void {
    if (cacheControl === undefined) {
      if (plan.cacheControl !== undefined) exchange.setHeader('Cache-Control', plan.cacheControl);
    } else {
      const strengthened =
        plan.scope !== 'public' && !/(^|[\s,])private([\s,=]|$)/i.test(cacheControl) ? `private, ${cacheControl}` : cacheControl;
      exchange.setHeader('Cache-Control', strengthened);
    }
    const merged = mergeVary(vary, plan.vary);
    if (merged !== undefined) exchange.setHeader('Vary', merged);
  }

  /** A 304 for a conditional request that the representation satisfies (`Last-Modified` is parsed only then). */
  private notModified(exchange: HttpExchange, etag: string, lastModified: string | undefined, fallbackMs: number): boolean {
    const headers = exchange.headers;
    const conditional = { method: exchange.method, ifNoneMatch: headers['if-none-match'], ifModifiedSince: headers['if-modified-since'] };
    if (conditional.ifNoneMatch === undefined && conditional.ifModifiedSince === undefined) return false;
    const modifiedAt = lastModified === undefined ? Number.NaN : Date.parse(lastModified);
    if (!isNotModified(conditional, etag, Number.isNaN(modifiedAt) ? fallbackMs : modifiedAt)) return false;
    exchange.setStatus(304);
    return true;
  }

  /** The names of the response's `Vary` that select among entries of one key (beyond the route's `varyBy`). */
  variantNames(vary: string | undefined, plan: RepresentationPlan): string[] {
    return varyNames(vary).filter((name) => name !== '*' && !plan.varyBy.includes(name));
  }

  /**
   * The entry a produced response is stored as: its body serialized once, all its end-to-end
   * headers, its validators. A background refresh runs after the stale answer was sent, so the
   * response's headers are the cache's own by then: it passes the stale entry's, and its
   * validators are made anew.
   */
  async draft(
    exchange: HttpExchange,
    value: unknown,
    plan: RepresentationPlan,
    before: HeaderSnapshot,
    refreshing?: CacheEntry,
  ): Promise<Drafted | undefined> {
    const serialized = exchange.serialize(value);
    if (serialized === undefined) return undefined;
    const threshold = this.options.compressAboveBytes;
    // Compressed once, off the event loop, so that hits can send these bytes as they are.
    const encoded = exchange.getHeader('content-encoding') !== undefined || refreshing?.headers['content-encoding'] !== undefined;
    const gzip =
      threshold !== undefined && !encoded && Buffer.byteLength(serialized.body) > threshold ? await gzipAsync(serialized.body) : undefined;
    const now = this.options.clock.now();
    const etag = refreshing === undefined ? (exchange.getHeader('etag') ?? weakEtag(serialized.body)) : weakEtag(serialized.body);
    const headers = refreshing === undefined ? ownHeaders(exchange, this.excluded, before, plan.routeHeaders) : { ...refreshing.headers };
    if (refreshing !== undefined && refreshing.etag !== etag) delete headers['last-modified'];
    headers['content-type'] ??= exchange.getHeader('content-type') ?? serialized.contentType;
    // The handler's validators are the validators; the cache makes its own only where it set none.
    headers['last-modified'] ??= httpDate(now);
    const names = this.variantNames(headers.vary, plan);
    const status = refreshing?.status ?? exchange.status();
    // RFC 9111 §4.2: with freshness from the response, it says how long it is fresh; its age counts from its birth.
    const header = refreshing === undefined ? (name: string) => exchange.getHeader(name) : (name: string) => headers[name];
    const life = lifetime(plan, header, status, now);
    if (life === undefined) return undefined;
    const { storedAt, expiresAt, retainMs } = life;
    const entry: DraftEntry = {
      status,
      headers,
      body: serialized.body,
      ...(gzip === undefined ? {} : { gzip }),
      etag,
      storedAt,
      expiresAt,
      ...(names.length === 0 ? {} : { variant: variantOf(exchange.headers, names) }),
    };
    return { entry, retainMs };
  }
}

const gzipAsync = promisify(gzip);

/**
 * When an entry was born, when it goes stale and how long the store keeps it (undefined: the
 * route's retention): from the route's TTL, or in `'response'` mode from the response's own
 * freshness (undefined when it is not storable: no freshness, or stale on arrival with no
 * window to serve it in).
 */
function lifetime(
  plan: RepresentationPlan,
  header: (name: string) => string | undefined,
  status: number,
  now: number,
): { storedAt: number; expiresAt: number; retainMs?: number } | undefined {
  if (plan.freshness !== 'response') return { storedAt: now, expiresAt: now + plan.ttlMs };
  const fresh = responseFreshness(header, status, now, plan.heuristicMs);
  if (fresh === undefined) return undefined;
  const storedAt = now - fresh.ageMs;
  const expiresAt = storedAt + fresh.lifetimeMs;
  const retainMs = expiresAt - now + (plan.mustRevalidate ? 0 : Math.max(fresh.staleWhileRevalidateMs, fresh.staleIfErrorMs));
  return retainMs <= 0 ? undefined : { storedAt, expiresAt, retainMs };
}

/** The ETag of the gzip representation: the identity one with a `-gzip` suffix inside the quotes. */
function gzipEtag(etag: string): string {
  return `${etag.slice(0, -1)}-gzip"`;
}

/** `Accept-Encoding` values seen and whether they accept gzip (clients send a handful; bounded all the same). */
const gzipAccepted = new Map<string, boolean>();

/** RFC 9110 §12.5.3: gzip (or x-gzip, or *) with a q-value above 0. */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  if (typeof header !== 'string') return parseAcceptsGzip(header);
  let accepts = gzipAccepted.get(header);
  if (accepts === undefined) {
    if (gzipAccepted.size >= 256) gzipAccepted.clear();
    accepts = parseAcceptsGzip(header);
    gzipAccepted.set(header, accepts);
  }
  return accepts;
}

function parseAcceptsGzip(header: string | string[]): boolean {
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

/**
 * The headers an entry keeps: those the handler and the interceptors inside the cache set (new
 * or changed since the cache began) and the route's `@Header()` ones. What middleware, hooks and
 * guards set is theirs to set again on every request (a request id, CORS), hits included.
 */
function ownHeaders(
  exchange: HttpExchange,
  excluded: ReadonlySet<string>,
  before: HeaderSnapshot,
  routeHeaders: ReadonlySet<string>,
): Record<string, string> {
  const headers = storableHeaders(exchange, excluded);
  for (const name of Object.keys(headers)) {
    if (before.has(name) && before.get(name) === headers[name] && !routeHeaders.has(name)) delete headers[name];
  }
  return headers;
}
