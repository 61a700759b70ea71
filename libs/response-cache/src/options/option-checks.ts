import { Logger } from '@nestjs/common';
import { ResponseCacheConfigError } from '../response-cache.errors';

/** A value as a person reads it in a message: `NaN` stays NaN (JSON would say null), strings are quoted. */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || value === undefined) return String(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return value.toString();
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Seconds → ms, refusing anything that is not a finite number ≥ `min`. */
export function seconds(option: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ResponseCacheConfigError(
      option,
      `expected a number of seconds ≥ ${min}, got ${describeValue(value)}`,
      'TTLs and windows are in seconds, e.g. { ttl: 60 } for one minute.',
    );
  }
  return Math.round(value * 1000);
}

/** A route TTL at or above this many seconds (16.7 hours) is more often milliseconds typed by habit. */
/** A whole number from `min` to `max`, or a config error naming the option. */
export function wholeNumber(option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
  throw new ResponseCacheConfigError(
    option,
    `expected a whole number ${range}, got ${describeValue(value)}`,
    'Leave it unset for the default.',
  );
}

export const ROUTE_TTL_SUSPECT = 60_000;
/** A module default TTL above a week is. */
export const MODULE_TTL_SUSPECT = 7 * 24 * 3600 + 1;

/**
 * One warning line when a TTL looks like milliseconds (`@nestjs/cache-manager` takes ms; this cache
 * takes seconds): 60000 here is 16.7 hours, not one minute.
 */
export function warnIfMilliseconds(option: string, ttlSeconds: number | undefined, suspectFrom: number): void {
  if (ttlSeconds === undefined || !(ttlSeconds >= suspectFrom)) return;
  const hours = Math.round((ttlSeconds / 3600) * 10) / 10;
  new Logger('ResponseCache').warn(
    `${option}: ${ttlSeconds} is ${hours} hours: TTLs here are in seconds, unlike @nestjs/cache-manager's milliseconds` +
      ` (did you mean ${Math.max(1, Math.round(ttlSeconds / 1000))}?)`,
  );
}

export function validateStatuses(option: string, value: unknown): ReadonlySet<number> {
  if (!Array.isArray(value) || value.some((s) => !Number.isInteger(s) || (s as number) < 200 || (s as number) > 599)) {
    throw new ResponseCacheConfigError(
      option,
      `expected an array of HTTP status codes (200–599), got ${describeValue(value)}`,
      'Use e.g. [200, 203, 404].',
    );
  }
  return new Set(value as number[]);
}

/** A `Host` header value: a name or address, with an optional port; no spaces, paths or controls. */
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Hosts to warm under: one or a list (at most 20) of `Host` header values. */
export function warmHosts(option: string, value: unknown): readonly string[] {
  const hosts = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(hosts) || hosts.length === 0 || hosts.length > 20) {
    throw new ResponseCacheConfigError(
      option,
      `expected a host or a list of 1 to 20 hosts, got ${describeValue(value)}`,
      'e.g. "api.example.com".',
    );
  }
  for (const host of hosts) {
    if (typeof host !== 'string' || host.length > 255 || !HOST.test(host)) {
      throw new ResponseCacheConfigError(
        option,
        `${describeValue(host)} is not a Host header value`,
        'Use the host your clients send, e.g. "api.example.com" or "127.0.0.1:3000".',
      );
    }
  }
  return hosts as string[];
}

export function freshnessMode(option: string, value: unknown): 'ttl' | 'response' {
  if (value !== 'ttl' && value !== 'response') {
    throw new ResponseCacheConfigError(option, `expected "ttl" or "response", got ${describeValue(value)}`, 'Leave it unset for "ttl".');
  }
  return value;
}

export function requireFunction(option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new ResponseCacheConfigError(option, `expected a function, got ${typeof value}`, 'Pass (context) => string | undefined.');
  }
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two short names. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known name nearest to `name` (case-insensitive), or undefined when none is close. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; score: number } | undefined;
  for (const candidate of known) {
    const a = name.toLowerCase();
    const b = candidate.toLowerCase();
    // A typo of the start of a longer name counts too (`treshold` for `thresholdBytes`).
    const score = Math.min(distance(a, b), distance(a, b.slice(0, a.length + 1)) + 0.5, distance(a, b.slice(0, a.length)) + 0.5);
    if (best === undefined || score < best.score) best = { name: candidate, score };
  }
  const tolerance = Math.max(2, Math.floor(name.length / 3));
  return best !== undefined && (best.score <= tolerance || best.name.toLowerCase().startsWith(name.toLowerCase())) ? best.name : undefined;
}

/** Refuses keys that are not options (a typo such as `tll` would otherwise be ignored in silence). */
export function rejectUnknownKeys(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const nearest = nearestName(key, known);
    throw new ResponseCacheConfigError(
      `${where}${key}`,
      'no such option',
      nearest === undefined ? `Known options: ${known.join(', ')}.` : `Did you mean "${nearest}"?`,
    );
  }
}

/** A boolean option, checked (a string such as "false" from an environment variable is refused). */
export function flag(name: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  throw new ResponseCacheConfigError(name, `expected true or false, got ${describeValue(value)}`, `Pass a boolean (e.g. ${name}: true).`);
}
