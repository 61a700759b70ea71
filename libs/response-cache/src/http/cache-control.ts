import type { CacheControlDirectives, CacheScope } from '../response-cache.options';

/**
 * Store, but revalidate before every reuse. `max-age=0` says the same as `no-cache` and makes
 * the freshness explicit, which some caches (undici's) need to keep the copy after a 304.
 */
const DEFAULT_DIRECTIVES: CacheControlDirectives = { noCache: true, maxAge: 0 };

/**
 * The client-facing `Cache-Control` of a route, computed once per route. Per-user and
 * per-tenant routes always get `private`; `undefined` leaves the header alone.
 */
export function renderCacheControl(option: string | CacheControlDirectives | false | undefined, scope: CacheScope): string | undefined {
  const isPrivate = scope !== 'public';
  if (option === false) return isPrivate ? 'private' : undefined;
  if (typeof option === 'string') {
    return isPrivate && !/\bprivate\b/i.test(option) ? `private, ${option}` : option;
  }
  const d = option ?? DEFAULT_DIRECTIVES;
  const parts: string[] = [];
  if (isPrivate) parts.push('private');
  else if (d.public) parts.push('public');
  if (d.noCache) parts.push('no-cache');
  if (d.maxAge !== undefined) parts.push(`max-age=${Math.floor(d.maxAge)}`);
  if (d.sMaxAge !== undefined && !isPrivate) parts.push(`s-maxage=${Math.floor(d.sMaxAge)}`);
  if (d.mustRevalidate) parts.push('must-revalidate');
  if (d.immutable) parts.push('immutable');
  if (d.staleWhileRevalidate !== undefined) parts.push(`stale-while-revalidate=${Math.floor(d.staleWhileRevalidate)}`);
  if (d.staleIfError !== undefined) parts.push(`stale-if-error=${Math.floor(d.staleIfError)}`);
  return parts.length === 0 ? undefined : parts.join(', ');
}

/** True when a response `Cache-Control` forbids storing it in a shared cache. */
export function forbidsSharedStorage(value: string | undefined): boolean {
  return value !== undefined && /(^|[\s,])(private|no-store)\b/i.test(value);
}
