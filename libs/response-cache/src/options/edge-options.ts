import { describeValue, rejectUnknownKeys, seconds } from './option-checks';
import { ResponseCacheConfigError } from '../response-cache.errors';
import type { EdgeAdapter, EdgeOptions, ResolvedEdge, RouteEdgeOptions } from '../edge/edge-adapter';

function wholeSeconds(option: string, value: unknown): number {
  return Math.floor(seconds(option, value) / 1000);
}

function milliseconds(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ResponseCacheConfigError(option, `expected milliseconds ≥ 0, got ${describeValue(value)}`, 'Leave it unset for the default.');
  }
  return value;
}

export function resolveEdge(edge: EdgeOptions | undefined): ResolvedEdge | undefined {
  if (edge === undefined) return undefined;
  if (typeof edge !== 'object' || edge === null) {
    throw new ResponseCacheConfigError(
      'edge',
      `expected an options object, got ${describeValue(edge)}`,
      'Pass e.g. { adapter: varnishEdge({ urls }) }.',
    );
  }
  rejectUnknownKeys('edge.', edge, ['adapter', 'ttl', 'staleWhileRevalidate', 'softPurge', 'purgeTimeoutMs', 'repurgeAfterMs']);
  const adapter = edge.adapter as Partial<EdgeAdapter> | undefined;
  if (
    adapter === undefined ||
    typeof adapter.purge !== 'function' ||
    typeof adapter.name !== 'string' ||
    typeof adapter.tagHeader !== 'string' ||
    typeof adapter.ttlHeader !== 'string' ||
    adapter.limits === undefined ||
    !Number.isInteger(adapter.maxKeysPerPurge) ||
    (adapter.maxKeysPerPurge ?? 0) < 1
  ) {
    throw new ResponseCacheConfigError(
      'edge.adapter',
      `${describeValue(edge.adapter)} is not an edge adapter`,
      'Use varnishEdge({ urls }), fastlyEdge({ serviceId, apiKey }), cloudflareEdge({ zoneId, apiToken }) or an object implementing EdgeAdapter.',
    );
  }
  return {
    adapter: edge.adapter,
    ttl: edge.ttl === undefined ? undefined : wholeSeconds('edge.ttl', edge.ttl),
    staleWhileRevalidate: wholeSeconds('edge.staleWhileRevalidate', edge.staleWhileRevalidate ?? 0),
    softPurge: edge.softPurge === true,
    purgeTimeoutMs: milliseconds('edge.purgeTimeoutMs', edge.purgeTimeoutMs, 1000),
    repurgeAfterMs: milliseconds('edge.repurgeAfterMs', edge.repurgeAfterMs, 2000),
  };
}

/** A route's `edge` option (`@Cacheable({ edge })`), checked at startup. */
export function resolveRouteEdge(edge: RouteEdgeOptions | undefined): RouteEdgeOptions | undefined {
  if (edge === undefined || edge === false) return edge;
  if (typeof edge !== 'object' || edge === null) {
    throw new ResponseCacheConfigError(
      '@Cacheable edge',
      `expected false or { ttl, staleWhileRevalidate }, got ${describeValue(edge)}`,
      'e.g. edge: { ttl: 3600 }.',
    );
  }
  rejectUnknownKeys('@Cacheable edge.', edge, ['ttl', 'staleWhileRevalidate']);
  return {
    ...(edge.ttl === undefined ? {} : { ttl: wholeSeconds('edge.ttl', edge.ttl) }),
    ...(edge.staleWhileRevalidate === undefined
      ? {}
      : { staleWhileRevalidate: wholeSeconds('edge.staleWhileRevalidate', edge.staleWhileRevalidate) }),
  };
}
