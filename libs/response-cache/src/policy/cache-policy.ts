import { StreamableFile } from '@nestjs/common';
import { BypassReason } from '../http/cache-status';
import { forbidsSharedStorage } from '../http/cache-control';
import { HttpExchange, hasRequestBody } from '../http/http-exchange';
import { CacheScope } from '../response-cache.options';

/**
 * Refuse by default (as ASP.NET Core output caching and Varnish do): only GET/HEAD, no body,
 * no credentials unless the route partitions by identity, no explicit bypass.
 * Returns the reason to bypass, or undefined when the request may use the cache.
 */
export function requestRefusal(exchange: HttpExchange, scope: CacheScope, bypassParam: string | false): BypassReason | undefined {
  const method = exchange.method;
  if (method !== 'GET' && method !== 'HEAD') return 'method';
  if (bypassParam !== false && isTrue(exchange.query[bypassParam])) return 'nocache-param';
  const headers = exchange.headers;
  if (hasRequestBody(headers)) return 'request-body';
  if (scope === 'public') {
    if (headers.authorization !== undefined) return 'authorization';
    if (headers.cookie !== undefined) return 'cookie';
  }
  return undefined;
}

function isTrue(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(isTrue);
  return value === true || (typeof value === 'string' && (value === '' || value === '1' || value.toLowerCase() === 'true'));
}

/**
 * Whether a produced response may be stored: an allowed status, no `Set-Cookie`, no `Vary: *`,
 * no `Cache-Control: private|no-store` set by the handler on a shared route, and a body we can
 * serialize once (objects, arrays, strings; not streams or buffers).
 */
export function responseRefusal(
  exchange: HttpExchange,
  scope: CacheScope,
  statuses: ReadonlySet<number>,
  value: unknown,
): BypassReason | undefined {
  if (!statuses.has(exchange.status())) return 'status';
  if (exchange.getHeader('set-cookie') !== undefined) return 'set-cookie';
  const vary = exchange.getHeader('vary');
  if (vary !== undefined && vary.split(',').some((v) => v.trim() === '*')) return 'vary-star';
  const cacheControl = exchange.getHeader('cache-control');
  if (scope === 'public' && forbidsSharedStorage(cacheControl)) return 'response-cache-control';
  // no-store anywhere; no-cache: a stored copy may never be reused without the handler running again.
  if (cacheControl !== undefined && /(^|[\s,])(no-store|no-cache)([\s,]|$)/i.test(cacheControl)) return 'response-cache-control';
  if (!isSerializable(value)) return 'unsupported-body';
  return undefined;
}

/** Bodies the cache serializes itself: plain values, objects and arrays, strings. */
export function isSerializable(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'string') return true;
  if (typeof value !== 'object') return typeof value === 'number' || typeof value === 'boolean';
  if (value instanceof StreamableFile || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return false;
  return typeof (value as { pipe?: unknown }).pipe !== 'function';
}
