import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { DraftEntry } from '../engine/response-cache.service';
import { isSerializable } from '../policy/cache-policy';
import type { ResolvedCacheOptions } from '../response-cache.options';
import type { CacheEntry } from '../store/cache-store';
import { isNotModified } from './conditional-request';
import { weakEtag } from './etag';
import type { HttpExchange } from './http-exchange';

/** What the representation needs of a route's plan. */
export interface RepresentationPlan {
  ttlMs: number;
  cacheControl: string | undefined;
  vary: string | undefined;
}

const X_CACHE = 'X-Cache';
const CACHE_STATUS = 'Cache-Status';

/**
 * The outgoing representation: what a hit, a stale answer, a collapsed request or an uncached
 * response sends (status, stored headers, validators, `Age`, `X-Cache`, `Cache-Status`, gzip to
 * clients that accept it, 304 to conditional requests), and the entry a response is stored as.
 */
export class Representation {
  constructor(private readonly options: Pick<ResolvedCacheOptions, 'clock' | 'compressAboveBytes' | 'storedHeaders'>) {}

  /** `X-Cache` and `Cache-Status`, set in this one place. */
  status(exchange: HttpExchange, xCache: string, cacheStatus: string): void {
    exchange.setHeader(X_CACHE, xCache);
    exchange.setHeader(CACHE_STATUS, cacheStatus);
  }

  /**
   * Writes the headers of a stored representation and returns what the platform should send:
   * the stored body as it is, or nothing for a 304 (which carries no content headers).
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
    const gzip = entry.gzip !== undefined && acceptsGzip(exchange.headers['accept-encoding']) ? entry.gzip : undefined;
    const etag = gzip === undefined ? entry.etag : gzipEtag(entry.etag);
    this.validators(exchange, plan, etag, entry.headers['last-modified']);
    this.status(exchange, xCache, cacheStatus);
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
  uncached(exchange: HttpExchange, plan: RepresentationPlan, value: unknown): unknown {
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

  private validators(exchange: HttpExchange, plan: RepresentationPlan, etag: string, lastModified: string): void {
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

  async draft(exchange: HttpExchange, value: unknown, plan: RepresentationPlan): Promise<DraftEntry | undefined> {
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

function serialize(exchange: HttpExchange, value: unknown): { body: string; contentType: string } | undefined {
  if (!isSerializable(value)) return undefined;
  if (typeof value === 'string') {
    return { body: value, contentType: exchange.getHeader('content-type') ?? 'text/plain; charset=utf-8' };
  }
  return { body: JSON.stringify(value), contentType: exchange.getHeader('content-type') ?? 'application/json; charset=utf-8' };
}
