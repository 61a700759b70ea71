import type { CacheControlDirectives, CacheScope } from '../response-cache.options';

/**
 * The client-facing `Cache-Control` of a route, computed once per route. Per-user and
 * per-tenant routes always get `private`; `undefined` leaves the header alone.
 */
export function renderCacheControl(
  option: string | CacheControlDirectives | false | undefined,
  scope: CacheScope,
): string | undefined {
  const isPrivate = scope !== 'public';
  if (option === false) return isPrivate ? 'private' : undefined;
  if (typeof option === 'string') {
    return isPrivate && !/\bprivate\b/i.test(option) ? `private, ${option}` : option;
  }
  const d = option ?? { noCache: true };
  const parts: string[] = [];
  if (isPrivate) parts.push('private');
  else if (d.maxAge !== undefined || d.sMaxAge !== undefined) parts.push('public');
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
