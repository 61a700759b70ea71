/**
 * RFC 9111 freshness of a response, for routes in `freshness: 'response'` mode: the route is a
 * shared cache in front of its handler, and the response itself says how long it stays fresh.
 */

/** RFC 9110 §15.1: statuses a cache may store with heuristic freshness (any other needs explicit freshness). */
export const HEURISTICALLY_CACHEABLE = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);

/** Statuses whose semantics this cache understands (RFC 9110 §15), for `must-understand` (RFC 9111 §5.2.2.3). */
const UNDERSTOOD = new Set([
  200, 201, 202, 203, 204, 205, 206, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411,
  412, 413, 414, 415, 416, 417, 421, 422, 426, 500, 501, 502, 503, 504, 505,
]);

/** False when the response says `must-understand` and its status is not one this cache understands. */
export function understood(cacheControl: string | undefined, status: number): boolean {
  return UNDERSTOOD.has(status) || !cacheControlDirectives(cacheControl).has('must-understand');
}

/** RFC 9111 §4.2.4: a response that says so is never served stale, in either freshness mode. */
export function forbidsStale(cacheControl: string | Map<string, string | true>): boolean {
  const cc = typeof cacheControl === 'string' ? cacheControlDirectives(cacheControl) : cacheControl;
  return cc.has('must-revalidate') || cc.has('proxy-revalidate') || cc.has('no-cache') || cc.has('s-maxage');
}

/** `Cache-Control` directives by lower-case name; a directive without a value maps to `true`. */
export function cacheControlDirectives(value: string | undefined): Map<string, string | true> {
  const directives = new Map<string, string | true>();
  if (value === undefined) return directives;
  for (const part of value.split(',')) {
    const [rawName, ...rest] = part.split('=');
    const name = rawName.trim().toLowerCase();
    if (name === '' || directives.has(name)) continue;
    directives.set(
      name,
      rest.length === 0
        ? true
        : rest
            .join('=')
            .trim()
            .replace(/^"(.*)"$/, '$1'),
    );
  }
  return directives;
}

/** RFC 9111 §1.2.2 delta-seconds: digits only; anything else is invalid (undefined). */
function deltaSeconds(value: string | true | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined;
  return Math.min(Number(value), 2 ** 31);
}

export interface ResponseFreshness {
  /** Freshness lifetime (s-maxage, max-age, Expires − Date, or the heuristic), in ms. */
  lifetimeMs: number;
  /** The response's age when it was received (`Age`, and the apparent age from `Date`), in ms. */
  ageMs: number;
  /** True when the lifetime came from the response, not the heuristic. */
  explicit: boolean;
  /** Stale windows from the response's own directives (zero where it forbids serving stale). */
  staleWhileRevalidateMs: number;
  staleIfErrorMs: number;
}

/**
 * The freshness of a response with `headers` (lower-case names) and `status`, received at `nowMs`:
 * undefined when it has no explicit freshness and may not use the heuristic (`heuristicMs`, the
 * route's own `ttl`, for heuristically cacheable statuses only).
 */
export function responseFreshness(
  headers: (name: string) => string | undefined,
  status: number,
  nowMs: number,
  heuristicMs: number | undefined,
): ResponseFreshness | undefined {
  const cc = cacheControlDirectives(headers('cache-control'));
  const date = Date.parse(headers('date') ?? '');
  let lifetimeMs: number | undefined;
  const sMaxAge = deltaSeconds(cc.get('s-maxage'));
  const maxAge = deltaSeconds(cc.get('max-age'));
  if (sMaxAge !== undefined) lifetimeMs = sMaxAge * 1000;
  else if (maxAge !== undefined) lifetimeMs = maxAge * 1000;
  else if (headers('expires') !== undefined) {
    const expires = Date.parse(headers('expires') ?? '');
    // An invalid Expires (a date in the past, "0") means already expired (RFC 9111 §5.3).
    lifetimeMs = Number.isNaN(expires) ? 0 : Math.max(0, expires - (Number.isNaN(date) ? nowMs : date));
  }
  const explicit = lifetimeMs !== undefined;
  if (lifetimeMs === undefined) {
    if (heuristicMs === undefined || !HEURISTICALLY_CACHEABLE.has(status)) return undefined;
    lifetimeMs = heuristicMs;
  }
  const ageHeader = headers('age');
  const ageValue = ageHeader === undefined ? 0 : deltaSeconds(ageHeader.trim());
  const apparentMs = Number.isNaN(date) ? 0 : Math.max(0, nowMs - date);
  // An Age that is not one delta-seconds value (negative, fractional, a list, garbage) makes the response stale.
  const ageMs = ageValue === undefined ? Math.max(lifetimeMs, apparentMs) : Math.max(apparentMs, ageValue * 1000);
  return { lifetimeMs, ageMs, explicit, ...staleWindowsOf(cc) };
}

/**
 * Stale windows from a response's own directives (RFC 5861), zero where RFC 9111 §4.2.4 forbids
 * serving it stale (`must-revalidate`, `proxy-revalidate`, `no-cache`, `s-maxage`).
 */
export function staleWindowsOf(cacheControl: string | Map<string, string | true> | undefined): {
  staleWhileRevalidateMs: number;
  staleIfErrorMs: number;
} {
  const cc = cacheControl instanceof Map ? cacheControl : cacheControlDirectives(cacheControl);
  const noStale = forbidsStale(cc);
  const window = (name: string) => (noStale ? 0 : (deltaSeconds(cc.get(name)) ?? 0) * 1000);
  return { staleWhileRevalidateMs: window('stale-while-revalidate'), staleIfErrorMs: window('stale-if-error') };
}
