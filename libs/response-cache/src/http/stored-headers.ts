import type { IncomingHttpHeaders } from 'node:http';
import type { HttpExchange } from './http-exchange';

/**
 * Fields a stored response never keeps: `Set-Cookie` (such responses are not stored at all),
 * hop-by-hop fields (RFC 9110 §7.6.1), fields the platform writes for each response, and the
 * cache's own. `ETag` is kept as the entry's validator; every other end-to-end field is stored.
 */
const NEVER_STORED = new Set([
  'set-cookie',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'content-length',
  'date',
  'age',
  'etag',
  'x-cache',
  'cache-status',
]);

/** The end-to-end response fields to store, by lower-case name, less `excluded` and those `Connection` names. */
export function storableHeaders(exchange: HttpExchange, excluded: ReadonlySet<string>): Record<string, string> {
  const connection = new Set((exchange.getHeader('connection') ?? '').split(',').map((n) => n.trim().toLowerCase()));
  const headers: Record<string, string> = {};
  for (const raw of exchange.headerNames()) {
    const name = raw.toLowerCase();
    if (NEVER_STORED.has(name) || excluded.has(name) || connection.has(name)) continue;
    const value = exchange.getHeader(name);
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

/** Field names of a `Vary` value, lower-case, in order, without duplicates. */
export function varyNames(value: string | undefined): string[] {
  if (value === undefined) return [];
  return [
    ...new Set(
      value
        .split(',')
        .map((n) => n.trim().toLowerCase())
        .filter((n) => n !== ''),
    ),
  ];
}

/**
 * `Vary` as sent: the handler's names first, then the route's own, each once (compared without
 * case). The handler's value is never replaced, only added to.
 */
export function mergeVary(handler: string | undefined, route: string | undefined): string | undefined {
  if (route === undefined || handler === route) return handler;
  if (handler === undefined) return route;
  if (varyNames(handler).includes('*')) return handler;
  const seen = new Set(varyNames(handler));
  const added = route
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '' && !seen.has(n.toLowerCase()));
  return added.length === 0 ? handler : `${handler}, ${added.join(', ')}`;
}

/**
 * A request header normalized for variant selection (RFC 9111 §4.1): field lines combined, the
 * white space around list commas removed; an absent field differs from an empty one.
 */
export function variantValue(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  if (value === undefined) return '\u0000';
  return (Array.isArray(value) ? value.join(',') : value).trim().replace(/\s*,\s*/g, ',');
}

/** The request's values of `names`, as one string that an entry records and a read compares. */
export function variantOf(headers: IncomingHttpHeaders, names: readonly string[]): string {
  return names.map((name) => `${name}=${variantValue(headers, name)}`).join('\n');
}
