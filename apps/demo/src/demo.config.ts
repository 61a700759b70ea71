/** The demo's settings, read from the environment variables of contract.md. */
export interface DemoConfig {
  port: number;
  httpAdapter: 'express' | 'fastify';
  cacheStore: 'memory' | 'redis' | 'tiered';
  cacheTtlSeconds: number;
  redisUrl: string;
  redisClusterNodes: string[];
  /** REDIS_SENTINELS: comma-separated host:port of the sentinels; when set (and no cluster nodes), Sentinel mode. */
  redisSentinels: string[];
  /** REDIS_SENTINEL_NAME: the master's name the sentinels watch (default `mymaster`). */
  redisSentinelName: string;
  /** REDIS_WAIT_REPLICAS: replicas that must hold each invalidation (WAIT), 0 is off (demo extra). */
  redisWaitReplicas: number;
  /** REDIS_WAIT_TIMEOUT_MS: bound of each WAIT (demo extra). */
  redisWaitTimeoutMs: number;
  cacheKeyPrefix: string;
  cacheMaxMemoryMb: number;
  cacheEnableCompression: boolean;
  cacheCompressionThresholdBytes: number;
  cacheOpTimeoutMs: number;
  cacheLogOperations: boolean;
  /** CACHE_ENABLED: false answers every cacheable route BYPASS (the baseline of the database-load bench; demo extra). */
  cacheEnabled: boolean;
  /** CACHE_FAST_LANE: answer eligible hits before Nest's routing. */
  cacheFastLane: boolean;
  cacheAdminToken?: string;
  dbLatencyMs: number;
  /** DATABASE_URL: the PostgreSQL server of the demo's data; unset: PGlite in the process. */
  databaseUrl?: string;
  staleWhileRevalidateSeconds: number;
  staleIfErrorSeconds: number;
  /** CACHE_WARM_PATHS: comma-separated paths warmed on startup (demo extra). */
  warmPaths: string[];
  /** CACHE_WARM_INTERVAL_SECONDS: warm again on this schedule; 0 is off (demo extra). */
  warmIntervalSeconds: number;
  /** CACHE_WARM_HOST: the Host header(s) of warming requests, comma-separated (demo extra). */
  warmHosts?: string[];
  /** CACHE_IDENTITY_SECRET: secret of the keyed hash of user ids in keys, shared by instances (demo extra). */
  identitySecret?: string;
  /** CACHE_STAMPEDE_LOCK: a Redis lease per cold key across instances, redis and tiered stores (demo extra). */
  stampedeLock: boolean;
  /** CACHE_STAMPEDE_WAIT_MS: how long an instance waits for another one's fill (demo extra). */
  stampedeWaitMs: number;
  /** CACHE_EDGE: the CDN or reverse proxy in front, purged on invalidation. */
  cacheEdge?: 'varnish' | 'fastly' | 'cloudflare';
  /** VARNISH_URLS: base URLs of the Varnish instances to purge (CACHE_EDGE=varnish). */
  varnishUrls: string[];
  /** CACHE_EDGE_TTL_SECONDS: how long the edge may keep a response; unset: the route's TTL (demo extra). */
  edgeTtlSeconds?: number;
  /** CACHE_EDGE_PURGE_TIMEOUT_MS: how long a write waits for the edge's purge (demo extra, default 1000). */
  edgePurgeTimeoutMs: number;
  /** CACHE_EDGE_SOFT_PURGE: mark stale at the edge instead of removing (demo extra, default false). */
  edgeSoftPurge: boolean;
  /** FASTLY_SERVICE_ID, FASTLY_API_KEY (CACHE_EDGE=fastly); CLOUDFLARE_ZONE_ID, CLOUDFLARE_API_TOKEN (CACHE_EDGE=cloudflare) (demo extras). */
  edgeCredentials: { fastlyServiceId?: string; fastlyApiKey?: string; cloudflareZoneId?: string; cloudflareApiToken?: string };
}

/** A demo setting that is present but wrong; the message names the variable and the fix. */
export class DemoConfigError extends Error {
  constructor(variable: string, value: string, expected: string) {
    super(`Environment variable ${variable}=${JSON.stringify(value)} is invalid: expected ${expected}. Fix or unset it.`);
    this.name = 'DemoConfigError';
  }
}

type Env = Record<string, string | undefined>;

function number(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER, integer = false): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new DemoConfigError(name, raw, `${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new DemoConfigError(name, raw, 'true or false');
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = raw.trim().toLowerCase() as T;
  if (!allowed.includes(value)) throw new DemoConfigError(name, raw, allowed.join(' or '));
  return value;
}

function list(raw: string | undefined): string[] | undefined {
  const items = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return items.length === 0 ? undefined : items;
}

function warmPaths(raw: string | undefined): string[] {
  if (raw === undefined) return ['/api/users', '/api/posts', '/api/version'];
  const paths = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  for (const path of paths)
    if (!path.startsWith('/')) throw new DemoConfigError('CACHE_WARM_PATHS', raw, 'comma-separated paths that start with "/"');
  return paths;
}

function databaseUrl(raw: string | undefined): string | undefined {
  const url = raw?.trim();
  if (url === undefined || url === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) throw new DemoConfigError('DATABASE_URL', '(hidden)', 'a postgres:// or postgresql:// URL');
  return url;
}

function edgeSettings(
  env: Env,
): Pick<DemoConfig, 'cacheEdge' | 'varnishUrls' | 'edgeTtlSeconds' | 'edgePurgeTimeoutMs' | 'edgeSoftPurge' | 'edgeCredentials'> {
  const raw = env.CACHE_EDGE?.trim() ?? '';
  const cacheEdge = raw === '' ? undefined : oneOf(env, 'CACHE_EDGE', 'varnish', ['varnish', 'fastly', 'cloudflare']);
  const varnishUrls = list(env.VARNISH_URLS) ?? [];
  for (const url of varnishUrls) {
    if (!/^https?:\/\/[^\s]+$/.test(url)) throw new DemoConfigError('VARNISH_URLS', env.VARNISH_URLS ?? '', 'comma-separated http:// URLs');
  }
  if (cacheEdge === 'varnish' && varnishUrls.length === 0) {
    throw new DemoConfigError(
      'VARNISH_URLS',
      env.VARNISH_URLS ?? '',
      'the Varnish base URLs to purge (CACHE_EDGE=varnish), e.g. http://varnish:80',
    );
  }
  const secret = (name: string) => env[name]?.trim() || undefined;
  const credentials = {
    fastlyServiceId: secret('FASTLY_SERVICE_ID'),
    fastlyApiKey: secret('FASTLY_API_KEY'),
    cloudflareZoneId: secret('CLOUDFLARE_ZONE_ID'),
    cloudflareApiToken: secret('CLOUDFLARE_API_TOKEN'),
  };
  if (cacheEdge === 'fastly' && (credentials.fastlyServiceId === undefined || credentials.fastlyApiKey === undefined)) {
    throw new DemoConfigError('CACHE_EDGE', raw, 'fastly together with FASTLY_SERVICE_ID and FASTLY_API_KEY');
  }
  if (cacheEdge === 'cloudflare' && (credentials.cloudflareZoneId === undefined || credentials.cloudflareApiToken === undefined)) {
    throw new DemoConfigError('CACHE_EDGE', raw, 'cloudflare together with CLOUDFLARE_ZONE_ID and CLOUDFLARE_API_TOKEN');
  }
  const ttl = env.CACHE_EDGE_TTL_SECONDS?.trim();
  return {
    cacheEdge,
    varnishUrls,
    edgeTtlSeconds: ttl === undefined || ttl === '' ? undefined : number(env, 'CACHE_EDGE_TTL_SECONDS', 0, 1, undefined, true),
    edgePurgeTimeoutMs: number(env, 'CACHE_EDGE_PURGE_TIMEOUT_MS', 1000, 1, 60_000, true),
    edgeSoftPurge: bool(env, 'CACHE_EDGE_SOFT_PURGE', false),
    edgeCredentials: credentials,
  };
}

/** A comma-separated list of host:port pairs (cluster seeds, sentinels). */
function hostPorts(env: Env, name: string): string[] {
  const raw = env[name] ?? '';
  const pairs = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const pair of pairs) {
    if (!/^[^:\s]+:\d{1,5}$/.test(pair)) throw new DemoConfigError(name, raw, 'comma-separated host:port pairs');
  }
  return pairs;
}

export function loadDemoConfig(env: Env): DemoConfig {
  const nodes = hostPorts(env, 'REDIS_CLUSTER_NODES');
  const token = env.CACHE_ADMIN_TOKEN?.trim();
  return {
    port: number(env, 'PORT', 3000, 0, 65535, true),
    httpAdapter: oneOf(env, 'HTTP_ADAPTER', 'express', ['express', 'fastify']),
    cacheStore: oneOf(env, 'CACHE_STORE', 'memory', ['memory', 'redis', 'tiered']),
    cacheTtlSeconds: number(env, 'CACHE_TTL_SECONDS', 300, 1),
    redisUrl: env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379',
    redisClusterNodes: nodes,
    redisSentinels: hostPorts(env, 'REDIS_SENTINELS'),
    redisSentinelName: env.REDIS_SENTINEL_NAME?.trim() || 'mymaster',
    redisWaitReplicas: number(env, 'REDIS_WAIT_REPLICAS', 0, 0, 16, true),
    redisWaitTimeoutMs: number(env, 'REDIS_WAIT_TIMEOUT_MS', 50, 1, 10_000),
    cacheKeyPrefix: env.CACHE_KEY_PREFIX ?? 'rc:',
    cacheMaxMemoryMb: number(env, 'CACHE_MAX_MEMORY_MB', 100, 1),
    cacheEnableCompression: bool(env, 'CACHE_ENABLE_COMPRESSION', true),
    cacheCompressionThresholdBytes: number(env, 'CACHE_COMPRESSION_THRESHOLD_BYTES', 1024, 0, undefined, true),
    cacheOpTimeoutMs: number(env, 'CACHE_OP_TIMEOUT_MS', 100, 1, 250, true),
    cacheLogOperations: bool(env, 'CACHE_LOG_OPERATIONS', false),
    cacheEnabled: bool(env, 'CACHE_ENABLED', true),
    cacheFastLane: bool(env, 'CACHE_FAST_LANE', true),
    cacheAdminToken: token === '' ? undefined : token,
    dbLatencyMs: number(env, 'DEMO_DB_LATENCY_MS', 0, 0, 60_000),
    databaseUrl: databaseUrl(env.DATABASE_URL),
    staleWhileRevalidateSeconds: number(env, 'CACHE_STALE_WHILE_REVALIDATE_SECONDS', 0, 0),
    staleIfErrorSeconds: number(env, 'CACHE_STALE_IF_ERROR_SECONDS', 0, 0),
    warmPaths: warmPaths(env.CACHE_WARM_PATHS),
    warmIntervalSeconds: number(env, 'CACHE_WARM_INTERVAL_SECONDS', 0, 0),
    warmHosts: list(env.CACHE_WARM_HOST),
    stampedeLock: bool(env, 'CACHE_STAMPEDE_LOCK', true),
    stampedeWaitMs: number(env, 'CACHE_STAMPEDE_WAIT_MS', 2000, 1, 600_000, true),
    identitySecret: env.CACHE_IDENTITY_SECRET?.trim() || undefined,
    ...edgeSettings(env),
  };
}
