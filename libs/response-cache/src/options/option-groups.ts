import { randomBytes } from 'node:crypto';
import type { ExecutionContext } from '@nestjs/common';
import { ResponseCacheConfigError } from '../response-cache.errors';
import type { EventStreamOptions, IdentityResolver, ResponseCacheModuleOptions, WarmOptions, WarmPath } from '../response-cache.options';
import type { StampedeLock } from '../store/stampede-lock';
import { describeValue, requireFunction, seconds, warmHosts } from './option-checks';
import { OptionTable, flagRow, resolveTable, wholeRow } from './option-table';

interface RequestWithIdentity {
  user?: { id?: unknown; sub?: unknown; username?: unknown; tenantId?: unknown };
  tenantId?: unknown;
}

function asIdentity(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

const request = (context: ExecutionContext) => context.switchToHttp().getRequest<RequestWithIdentity>();

export const defaultUserIdentity: IdentityResolver = (context) => {
  const user = request(context).user;
  return asIdentity(user?.id) ?? asIdentity(user?.sub) ?? asIdentity(user?.username);
};

export const defaultTenantIdentity: IdentityResolver = (context) =>
  asIdentity(request(context).user?.tenantId) ?? asIdentity(request(context).tenantId);

function resolver(fallback: IdentityResolver) {
  return (value: IdentityResolver | undefined, name: string): IdentityResolver => {
    requireFunction(name, value);
    return value ?? fallback;
  };
}

type Group<K extends keyof ResponseCacheModuleOptions> = NonNullable<ResponseCacheModuleOptions[K]>;

export const IDENTITY_OPTIONS = {
  user: {
    default: '`request.user.id ?? .sub ?? .username`',
    doc: "`(context) => string | undefined`: the verified user for `scope: 'user'` (guards run before the cache)",
    resolve: resolver(defaultUserIdentity),
  },
  tenant: {
    default: '`request.user.tenantId ?? request.tenantId`',
    doc: "the same for `scope: 'tenant'`",
    resolve: resolver(defaultTenantIdentity),
  },
  secret: {
    default: 'random per process',
    doc: 'secret of the keyed hash (HMAC-SHA256) of identities in keys and tags, at least 16 characters; set the same value on every instance that shares a store',
    resolve: (value: string | undefined, name: string): string | undefined => {
      if (value === undefined || (typeof value === 'string' && value.length >= 16)) return value;
      const got = typeof value === 'string' ? `${(value as string).length} characters` : describeValue(value);
      throw new ResponseCacheConfigError(
        name,
        `expected a string of at least 16 characters, got ${got}`,
        'Use a random string shared by the instances of the app, e.g. from openssl rand -base64 32.',
      );
    },
  },
} satisfies OptionTable<Group<'identity'>>;

export const RESILIENCE_OPTIONS = {
  opTimeoutMs: wholeRow(
    100,
    'bound on any single operation of a remote store (1–250 ms); past it the request goes on without the cache',
    1,
    250,
  ),
  failureThreshold: wholeRow(5, 'consecutive store failures that open the circuit breaker (requests then skip the store)', 1),
  cooldownMs: wholeRow(5000, 'how long the circuit stays open before one probe goes through', 1),
} satisfies OptionTable<Group<'resilience'>>;

export const STAMPEDE_OPTIONS = {
  lock: {
    default: 'none',
    doc: 'a `StampedeLock` (`RedisStampedeLock`): a cold key across N instances runs its handler about once',
    resolve: (value: StampedeLock | undefined, name: string): StampedeLock | undefined => {
      if (value === undefined || (typeof value?.acquire === 'function' && typeof value.release === 'function')) return value;
      throw new ResponseCacheConfigError(
        name,
        `expected a StampedeLock, got ${describeValue(value)}`,
        'Pass e.g. new RedisStampedeLock(client).',
      );
    },
  },
  waitMs: wholeRow(2000, "how long an instance waits for another one's fill before running the handler itself, in ms", 1),
} satisfies OptionTable<Group<'stampede'>>;

export const COMPRESSION_OPTIONS = {
  enabled: flagRow(true, 'keep a gzip copy of large bodies'),
  thresholdBytes: wholeRow(1024, 'bodies larger than this many bytes get the gzip copy', 0),
} satisfies OptionTable<Group<'compression'>>;

function warmPaths(value: readonly WarmPath[] | undefined, name: string): readonly WarmPath[] {
  if (value !== undefined && !Array.isArray(value)) {
    throw new ResponseCacheConfigError(name, `expected a list of paths, got ${describeValue(value)}`, 'Use e.g. ["/api/users"].');
  }
  for (const item of value ?? []) {
    const path = typeof item === 'string' ? item : item?.path;
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new ResponseCacheConfigError(
        name,
        `${describeValue(item)} is not a path`,
        'Use paths that start with "/", e.g. ["/api/users"].',
      );
    }
  }
  return value ?? [];
}

export const WARM_OPTIONS = {
  paths: { default: 'none', doc: 'paths to fetch (with the query), or `{ path, headers }`', resolve: warmPaths },
  onStartup: flagRow(true, 'warm once the server listens'),
  intervalSeconds: {
    default: '0',
    doc: 'warm again every this many seconds; 0 turns the schedule off',
    as: 'intervalMs' as const,
    resolve: (value: number | undefined, name: string) => seconds(name, value ?? 0),
  },
  timeoutMs: wholeRow(5000, 'bound on each warming request, in ms', 1),
  host: {
    default: '`localhost:<port>`',
    doc: 'the `Host` header of warming requests (keys include it): the host your clients use, or a list',
    as: 'hosts' as const,
    resolve: (value: string | readonly string[] | undefined, name: string) => (value === undefined ? undefined : warmHosts(name, value)),
  },
} satisfies OptionTable<WarmOptions>;

export const EVENT_STREAM_OPTIONS = {
  maxEventsPerSecond: wholeRow(200, 'events sent per second to one client; the rest are counted', 1),
  bufferSize: wholeRow(256, 'events queued per client while its socket is not draining', 1),
  maxClients: wholeRow(10, 'concurrent streams; more get 429', 1),
} satisfies OptionTable<EventStreamOptions>;

/** The `identity` group resolved, with whether its secret was made for this process. */
export function resolveIdentity(value: Group<'identity'> | undefined, name: string) {
  const identity = resolveTable(IDENTITY_OPTIONS, value ?? {}, `${name}.`);
  return { ...identity, secret: identity.secret ?? randomBytes(32).toString('base64url'), secretGenerated: identity.secret === undefined };
}
