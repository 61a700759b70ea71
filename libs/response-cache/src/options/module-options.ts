import { ResponseCacheConfigError } from '../response-cache.errors';
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import { resolveEdge } from './edge-options';
import type { ResponseCacheModuleOptions } from '../response-cache.options';
import type { CacheStore } from '../store/cache-store';
import { DEFAULT_MAX_MEMORY_BYTES } from '../store/memory.store';
import {
  MODULE_TTL_SUSPECT,
  describeValue,
  freshnessMode,
  seconds,
  validateStatuses,
  warnIfMilliseconds,
  wholeNumber,
} from './option-checks';
import {
  COMPRESSION_OPTIONS,
  EVENT_STREAM_OPTIONS,
  RESILIENCE_OPTIONS,
  STAMPEDE_OPTIONS,
  WARM_OPTIONS,
  IDENTITY_OPTIONS,
  resolveIdentity,
} from './option-groups';
import { OptionTable, flagRow, resolveTable, secondsRow, wholeRow } from './option-table';
import type { CurrentModuleOptions } from './deprecated-options';

function checked<T>(isValid: (value: T) => boolean, fix: string, expected: string) {
  return (value: T | undefined, name: string): T | undefined => {
    if (value === undefined || isValid(value)) return value;
    throw new ResponseCacheConfigError(name, `expected ${expected}, got ${describeValue(value)}`, fix);
  };
}

/** Every module option, once: its default, its check and its line of the docs. */
export const MODULE_OPTIONS = {
  store: {
    default: 'a `MemoryCacheStore` bounded by `maxMemoryBytes`',
    doc: 'any `CacheStore` (`RedisCacheStore`, `TieredCacheStore`, yours); a remote one gets the `resilience` bounds',
    resolve: checked<CacheStore>(
      (store) => typeof store?.get === 'function' && typeof store.set === 'function',
      'Pass an instance of MemoryCacheStore or another CacheStore implementation.',
      'a CacheStore',
    ),
  },
  ttl: {
    ...secondsRow(300, 'ttlMs', 'default server-side TTL of routes, **in seconds**', 0.001),
    resolve: (value: number | undefined, name: string) => {
      const ms = seconds(name, value ?? 300, 0.001);
      warnIfMilliseconds(name, value, MODULE_TTL_SUSPECT);
      return ms;
    },
  },
  maxMemoryBytes: {
    default: '100 MiB',
    doc: 'bound of the default memory store, in bytes of stored entries (at least 1024)',
    resolve: (value: number | undefined, name: string) => wholeNumber(name, value ?? DEFAULT_MAX_MEMORY_BYTES, 1024),
  },
  staleWhileRevalidate: secondsRow(0, 'staleWhileRevalidateMs', 'default stale-while-revalidate window, in seconds (RFC 5861)'),
  staleIfError: secondsRow(0, 'staleIfErrorMs', 'default stale-if-error window, in seconds (RFC 5861)'),
  mustRevalidate: flagRow(false, 'never serve stale, whatever the windows say'),
  freshness: {
    default: "`'ttl'`",
    doc: "where routes' freshness comes from by default: their `ttl`, or (`'response'`) the response itself (RFC 9111)",
    resolve: (value: 'ttl' | 'response' | undefined, name: string) => freshnessMode(name, value ?? 'ttl'),
  },
  compression: {
    default: '`{ enabled: true, thresholdBytes: 1024 }`',
    doc: 'keep a gzip copy of bodies over the threshold and send it as it is to clients that accept gzip',
    as: 'compressAboveBytes' as const,
    resolve: (value: ResponseCacheModuleOptions['compression'], name: string) => {
      const compression = resolveTable(COMPRESSION_OPTIONS, value ?? {}, `${name}.`);
      return compression.enabled ? compression.thresholdBytes : undefined;
    },
  },
  stampede: {
    default: '`{ waitMs: 2000 }`, no lock',
    doc: 'cross-instance stampede protection: `{ lock, waitMs }`',
    rows: STAMPEDE_OPTIONS,
    resolve: (value: ResponseCacheModuleOptions['stampede'], name: string) => resolveTable(STAMPEDE_OPTIONS, value ?? {}, `${name}.`),
  },
  warm: {
    default: 'no paths',
    doc: "cache warming through the app's own HTTP pipeline (see [Operations](operations.md))",
    rows: WARM_OPTIONS,
    resolve: (value: ResponseCacheModuleOptions['warm'], name: string) => resolveTable(WARM_OPTIONS, value ?? {}, `${name}.`),
  },
  adminToken: {
    default: 'unset',
    doc: 'bearer token of the admin routes; unset, they answer 401',
    resolve: (value: string | undefined, name: string) => {
      if (value !== undefined && typeof value !== 'string') {
        throw new ResponseCacheConfigError(
          name,
          `expected a string, got ${describeValue(value)}`,
          'Pass e.g. process.env.CACHE_ADMIN_TOKEN.',
        );
      }
      return value?.trim() || undefined;
    },
  },
  resilience: {
    default: '`{ opTimeoutMs: 100, failureThreshold: 5, cooldownMs: 5000 }`',
    doc: 'bounds around a remote store: a timeout per operation and a circuit breaker',
    rows: RESILIENCE_OPTIONS,
    resolve: (value: ResponseCacheModuleOptions['resilience'], name: string) => resolveTable(RESILIENCE_OPTIONS, value ?? {}, `${name}.`),
  },
  eventStream: {
    default: '`{ maxEventsPerSecond: 200, bufferSize: 256, maxClients: 10 }`',
    doc: 'limits of `GET /admin/cache/events` per client (see [Operations](operations.md#live-event-stream))',
    rows: EVENT_STREAM_OPTIONS,
    resolve: (value: ResponseCacheModuleOptions['eventStream'], name: string) =>
      resolveTable(EVENT_STREAM_OPTIONS, value ?? {}, `${name}.`),
  },
  cacheableStatuses: {
    default: '`[200]`',
    doc: 'statuses that may be stored',
    resolve: (value: readonly number[] | undefined, name: string) => validateStatuses(name, value ?? [200]),
  },
  cacheStatusName: {
    default: '`ResponseCache`',
    doc: "the cache's name in `Cache-Status` (an RFC 8941 token)",
    resolve: (value: string | undefined, name: string) => {
      const token = value ?? 'ResponseCache';
      if (typeof token === 'string' && /^[A-Za-z*][A-Za-z0-9_\-.:/*%]*$/.test(token)) return token;
      throw new ResponseCacheConfigError(
        name,
        `${describeValue(token)} is not an RFC 8941 token`,
        'Use letters, digits and - _ . : / only, starting with a letter.',
      );
    },
  },
  bypassQueryParam: {
    default: '`nocache`',
    doc: '`?nocache=true` (any case, or `1`, or empty) skips the cache for that request; the parameter is dropped from keys; `false` turns it off',
    resolve: (value: string | false | undefined, name: string): string | false => {
      const param = value ?? 'nocache';
      if (param === false || (typeof param === 'string' && param !== '')) return param;
      throw new ResponseCacheConfigError(name, 'expected a non-empty string or false', 'Use e.g. "nocache".');
    },
  },
  keyIncludesHost: flagRow(true, 'the `Host` header is part of the key'),
  maxKeyLength: wholeRow(256, 'longer keys become a readable prefix plus a SHA-256 of the whole key (at least 64)', 64),
  identity: {
    default: 'see below',
    doc: 'who the caller is on per-user and per-tenant routes, and the secret their ids are hashed with',
    rows: IDENTITY_OPTIONS,
    resolve: resolveIdentity,
  },
  excludedHeaders: {
    default: 'none',
    doc: 'response headers never stored with an entry (besides `Set-Cookie`, hop-by-hop fields, `Content-Length`, `Date`)',
    resolve: (value: readonly string[] | undefined, name: string) => {
      if (value === undefined || (Array.isArray(value) && value.every((h) => typeof h === 'string')))
        return (value ?? []).map((h) => h.toLowerCase());
      throw new ResponseCacheConfigError(name, 'expected an array of header names', 'Use e.g. ["x-request-id"].');
    },
  },
  logOperations: flagRow(false, 'one JSON line on stdout per hit, miss, bypass, invalidation and store error'),
  clock: {
    default: 'system clock',
    doc: '`{ now(): number }`; inject `ManualClock` (`nestjs-response-cache/testing`) in tests instead of sleeping',
    resolve: (value: Clock | undefined, name: string): Clock =>
      checked<Clock>(
        (clock) => typeof clock?.now === 'function',
        'Pass { now: () => Date.now() } or a ManualClock.',
        'a Clock',
      )(value, name) ?? systemClock,
  },
  enabled: flagRow(true, '`false` answers every route `BYPASS` (detail `disabled`)'),
  fastLane: flagRow(false, 'answer hits of eligible routes before Nest routes the request (see [The fast lane](transparency.md))'),
  edge: {
    default: 'none',
    doc: 'the CDN or reverse proxy in front: `{ adapter: varnishEdge({ urls }) | fastlyEdge(…) | cloudflareEdge(…), … }` (see [Edge](edge.md))',
    resolve: (value: ResponseCacheModuleOptions['edge']) => resolveEdge(value),
  },
} satisfies OptionTable<CurrentModuleOptions>;
