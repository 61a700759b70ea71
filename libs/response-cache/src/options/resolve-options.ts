import { randomBytes } from 'node:crypto';
import { ResponseCacheConfigError } from '../response-cache.errors';
import type { ResponseCacheModuleOptions } from '../response-cache.options';
import type { CacheStore } from '../store/cache-store';
import { MemoryCacheStore } from '../store/memory.store';
import { ResilientCacheStore } from '../store/resilient.store';
import { DEPRECATED_OPTIONS, moveDeprecatedOptions } from './deprecated-options';
import { MODULE_OPTIONS } from './module-options';
import { describeValue, rejectUnknownKeys } from './option-checks';
import { ResolvedTable, resolveTable } from './option-table';

type Table = ResolvedTable<typeof MODULE_OPTIONS>;

/** Options after validation, every default filled in: what the services see. */
export type ResolvedCacheOptions = Omit<Table, 'store' | 'maxMemoryBytes' | 'resilience'> & {
  /** The store, wrapped with timeouts and a circuit breaker unless it is local. */
  readonly store: CacheStore;
  /** Per-process secret of warming requests (they refresh their entry). */
  readonly refreshToken: string;
};

/** The module definition's extras, which reach here only when a factory returns them. */
const EXTRA_KEYS = ['isGlobal', 'adminRoutes', 'metrics'];

function rejectExtras(options: object): void {
  for (const extra of EXTRA_KEYS) {
    if (!(extra in options)) continue;
    throw new ResponseCacheConfigError(
      extra,
      'is an extra of the module, not an option a factory can return',
      `Pass it beside useFactory: ResponseCacheModule.forRootAsync({ ${extra}: …, useFactory }).`,
    );
  }
}

/**
 * A store that can hang (anything remote) gets a timeout and a circuit breaker around it. The
 * breaker keeps real time: the cache clock (a fake one in tests) governs freshness only.
 */
function guardedStore({ store, maxMemoryBytes, resilience, clock }: Table): CacheStore {
  const configured = store ?? new MemoryCacheStore({ maxSizeBytes: maxMemoryBytes, clock });
  if (configured.local === true || configured instanceof ResilientCacheStore) return configured;
  const { opTimeoutMs: timeoutMs, failureThreshold, cooldownMs } = resilience;
  return new ResilientCacheStore(configured, { timeoutMs, failureThreshold, cooldownMs });
}

/** Validates user options and fills in the defaults; throws a {@link ResponseCacheConfigError}. */
export function resolveOptions(options: ResponseCacheModuleOptions = {}): ResolvedCacheOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ResponseCacheConfigError('forRoot', `expected an options object, got ${describeValue(options)}`, 'Pass e.g. { ttl: 60 }.');
  }
  rejectExtras(options);
  // Unknown keys first, with the deprecated names among the known ones, so that a typo of either is named.
  rejectUnknownKeys('', options, [...Object.keys(MODULE_OPTIONS), ...DEPRECATED_OPTIONS]);
  const table = resolveTable(MODULE_OPTIONS, moveDeprecatedOptions(options));
  const { store: _store, maxMemoryBytes: _max, resilience: _resilience, ...resolved } = table;
  return { ...resolved, store: guardedStore(table), refreshToken: randomBytes(18).toString('base64url') };
}
