import { randomBytes } from 'node:crypto';
import { systemClock } from '../clock';
import { ResponseCacheConfigError } from '../response-cache.errors';
import type {
  EventStreamOptions,
  IdentityResolver,
  ResolvedCacheOptions,
  ResponseCacheModuleOptions,
  WarmOptions,
} from '../response-cache.options';
import { DEFAULT_MAX_MEMORY_BYTES, MemoryCacheStore } from '../store/memory.store';
import { ResilientCacheStore } from '../store/resilient.store';
import { resolveEdge } from '../edge/resolve-edge';
import {
  MODULE_TTL_SUSPECT,
  describeValue,
  flag,
  freshnessMode,
  rejectUnknownKeys,
  requireFunction,
  seconds,
  validateStatuses,
  warnIfMilliseconds,
  warmHosts,
} from './option-checks';

interface RequestWithIdentity {
  user?: { id?: unknown; sub?: unknown; username?: unknown; tenantId?: unknown };
  tenantId?: unknown;
}

function asIdentity(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export const defaultUserIdentity: IdentityResolver = (context) => {
  const user = context.switchToHttp().getRequest<RequestWithIdentity>().user;
  return asIdentity(user?.id) ?? asIdentity(user?.sub) ?? asIdentity(user?.username);
};

export const defaultTenantIdentity: IdentityResolver = (context) => {
  const request = context.switchToHttp().getRequest<RequestWithIdentity>();
  return asIdentity(request.user?.tenantId) ?? asIdentity(request.tenantId);
};

/** Seconds → ms, refusing anything that is not a finite number ≥ `min`. */

function resolveWarm(warm: WarmOptions | undefined): ResolvedCacheOptions['warm'] {
  if (warm !== undefined) rejectUnknownKeys('warm.', warm, ['paths', 'onStartup', 'intervalSeconds', 'timeoutMs', 'host']);
  const paths = warm?.paths ?? [];
  for (const item of paths) {
    const path = typeof item === 'string' ? item : item?.path;
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new ResponseCacheConfigError(
        'warm.paths',
        `${describeValue(item)} is not a path`,
        'Use paths that start with "/", e.g. ["/api/users"].',
      );
    }
  }
  return {
    paths,
    onStartup: warm?.onStartup ?? true,
    intervalMs: seconds('warm.intervalSeconds', warm?.intervalSeconds ?? 0),
    timeoutMs: warm?.timeoutMs ?? 5000,
    hosts: warm?.host === undefined ? undefined : warmHosts('warm.host', warm.host),
  };
}

function resolveEventStream(options: EventStreamOptions | undefined): Required<EventStreamOptions> {
  if (options !== undefined) rejectUnknownKeys('eventStream.', options, ['maxEventsPerSecond', 'bufferSize', 'maxClients']);
  const resolved = { maxEventsPerSecond: 200, bufferSize: 256, maxClients: 10, ...options };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new ResponseCacheConfigError(
        `eventStream.${name}`,
        `expected a whole number ≥ 1, got ${describeValue(value)}`,
        'Leave it unset for the default.',
      );
    }
  }
  return resolved;
}

function compressionThreshold(option: ResponseCacheModuleOptions['compression']): number | undefined {
  if (option !== undefined) rejectUnknownKeys('compression.', option, ['enabled', 'thresholdBytes']);
  if (option?.enabled === false) return undefined;
  const threshold = option?.thresholdBytes ?? 1024;
  if (!Number.isInteger(threshold) || threshold < 0) {
    throw new ResponseCacheConfigError(
      'compression.thresholdBytes',
      `expected a whole number of bytes ≥ 0, got ${describeValue(threshold)}`,
      'Use e.g. { thresholdBytes: 1024 }.',
    );
  }
  return threshold;
}

/** Validates user options and fills in the defaults; throws a {@link ResponseCacheConfigError}. */
/** Every key of {@link ResponseCacheModuleOptions}: anything else is a typo, refused at startup. */
const MODULE_OPTION_KEYS: readonly (keyof ResponseCacheModuleOptions)[] = [
  'store',
  'ttl',
  'staleWhileRevalidate',
  'staleIfError',
  'mustRevalidate',
  'freshness',
  'opTimeoutMs',
  'circuitBreaker',
  'maxMemoryBytes',
  'cacheableStatuses',
  'cacheStatusName',
  'bypassQueryParam',
  'keyIncludesHost',
  'maxKeyLength',
  'userIdentity',
  'tenantIdentity',
  'identitySecret',
  'excludedHeaders',
  'logOperations',
  'clock',
  'enabled',
  'fastLane',
  'adminToken',
  'compression',
  'warm',
  'stampedeLock',
  'stampedeWaitMs',
  'eventStream',
  'edge',
];
/** The module definition's extras, which reach here only when a factory returns them. */
const EXTRA_KEYS = ['isGlobal', 'adminRoutes', 'metrics'];

export function resolveOptions(options: ResponseCacheModuleOptions = {}): ResolvedCacheOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ResponseCacheConfigError('forRoot', `expected an options object, got ${describeValue(options)}`, 'Pass e.g. { ttl: 60 }.');
  }
  for (const extra of EXTRA_KEYS) {
    if (extra in options) {
      throw new ResponseCacheConfigError(
        extra,
        'is an extra of the module, not an option a factory can return',
        `Pass it beside useFactory: ResponseCacheModule.forRootAsync({ ${extra}: …, useFactory }).`,
      );
    }
  }
  rejectUnknownKeys('', options, MODULE_OPTION_KEYS);
  warnIfMilliseconds('ttl', options.ttl, MODULE_TTL_SUSPECT);
  const clock = options.clock ?? systemClock;
  const maxMemoryBytes = options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
  if (!Number.isInteger(maxMemoryBytes) || maxMemoryBytes < 1024) {
    throw new ResponseCacheConfigError(
      'maxMemoryBytes',
      `expected a whole number of bytes ≥ 1024, got ${describeValue(options.maxMemoryBytes)}`,
      'Use e.g. 100 * 1024 * 1024 for 100 MiB.',
    );
  }
  const configured = options.store ?? new MemoryCacheStore({ maxSizeBytes: maxMemoryBytes, clock });
  if (typeof configured.get !== 'function' || typeof configured.set !== 'function') {
    throw new ResponseCacheConfigError(
      'store',
      'not a CacheStore',
      'Pass an instance of MemoryCacheStore or another CacheStore implementation.',
    );
  }
  const opTimeoutMs = options.opTimeoutMs ?? 100;
  if (!Number.isInteger(opTimeoutMs) || opTimeoutMs < 1 || opTimeoutMs > 250) {
    throw new ResponseCacheConfigError(
      'opTimeoutMs',
      `expected whole milliseconds from 1 to 250, got ${describeValue(opTimeoutMs)}`,
      'Use e.g. 100.',
    );
  }
  const breaker = options.circuitBreaker ?? {};
  rejectUnknownKeys('circuitBreaker.', breaker, ['failureThreshold', 'cooldownMs']);
  for (const [field, value] of Object.entries(breaker)) {
    if (value !== undefined && (!Number.isInteger(value) || (value as number) < 1)) {
      throw new ResponseCacheConfigError(
        `circuitBreaker.${field}`,
        `expected a positive whole number, got ${describeValue(value)}`,
        'e.g. { failureThreshold: 5, cooldownMs: 5000 }.',
      );
    }
  }
  // A store that can hang (anything remote) gets a timeout and a circuit breaker around it.
  // The breaker keeps real time: the cache clock (a fake one in tests) governs freshness only.
  const store =
    configured.local === true || configured instanceof ResilientCacheStore
      ? configured
      : new ResilientCacheStore(configured, { timeoutMs: opTimeoutMs, ...breaker });
  const name = options.cacheStatusName ?? 'ResponseCache';
  if (!/^[A-Za-z*][A-Za-z0-9_\-.:/*%]*$/.test(name)) {
    throw new ResponseCacheConfigError(
      'cacheStatusName',
      `"${name}" is not an RFC 8941 token`,
      'Use letters, digits and - _ . : / only, starting with a letter.',
    );
  }
  const bypass = options.bypassQueryParam ?? 'nocache';
  if (bypass !== false && (typeof bypass !== 'string' || bypass === '')) {
    throw new ResponseCacheConfigError('bypassQueryParam', 'expected a non-empty string or false', 'Use e.g. "nocache".');
  }
  const maxKeyLength = options.maxKeyLength ?? 256;
  if (!Number.isInteger(maxKeyLength) || maxKeyLength < 64) {
    throw new ResponseCacheConfigError('maxKeyLength', `expected a whole number ≥ 64, got ${describeValue(maxKeyLength)}`, 'Use e.g. 256.');
  }
  requireFunction('userIdentity', options.userIdentity);
  requireFunction('tenantIdentity', options.tenantIdentity);
  const identitySecret = options.identitySecret;
  if (identitySecret !== undefined && (typeof identitySecret !== 'string' || identitySecret.length < 16)) {
    throw new ResponseCacheConfigError(
      'identitySecret',
      `expected a string of at least 16 characters, got ${typeof identitySecret === 'string' ? `${identitySecret.length} characters` : describeValue(identitySecret)}`,
      'Use a random string shared by the instances of the app, e.g. from openssl rand -base64 32.',
    );
  }
  const excludedHeaders = options.excludedHeaders ?? [];
  if (!Array.isArray(excludedHeaders) || excludedHeaders.some((h) => typeof h !== 'string')) {
    throw new ResponseCacheConfigError('excludedHeaders', 'expected an array of header names', 'Use e.g. ["x-request-id"].');
  }
  return {
    store,
    ttlMs: seconds('ttl', options.ttl ?? 300, 0.001),
    staleWhileRevalidateMs: seconds('staleWhileRevalidate', options.staleWhileRevalidate ?? 0),
    staleIfErrorMs: seconds('staleIfError', options.staleIfError ?? 0),
    mustRevalidate: options.mustRevalidate ?? false,
    freshness: freshnessMode('freshness', options.freshness ?? 'ttl'),
    cacheableStatuses: validateStatuses('cacheableStatuses', options.cacheableStatuses ?? [200]),
    cacheStatusName: name,
    bypassQueryParam: bypass,
    keyIncludesHost: options.keyIncludesHost ?? true,
    maxKeyLength,
    userIdentity: options.userIdentity ?? defaultUserIdentity,
    tenantIdentity: options.tenantIdentity ?? defaultTenantIdentity,
    identitySecret: identitySecret ?? randomBytes(32).toString('base64url'),
    identitySecretGenerated: identitySecret === undefined,
    excludedHeaders: excludedHeaders.map((h) => h.toLowerCase()),
    logOperations: options.logOperations ?? false,
    clock,
    enabled: options.enabled ?? true,
    fastLane: flag('fastLane', options.fastLane ?? false),
    compressAboveBytes: compressionThreshold(options.compression),
    warm: resolveWarm(options.warm),
    refreshToken: randomBytes(18).toString('base64url'),
    stampedeLock: options.stampedeLock,
    stampedeWaitMs: options.stampedeWaitMs ?? 2000,
    eventStream: resolveEventStream(options.eventStream),
    edge: resolveEdge(options.edge),
    adminToken: options.adminToken === undefined || options.adminToken.trim() === '' ? undefined : options.adminToken.trim(),
  };
}
