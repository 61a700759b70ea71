import { createHash } from 'node:crypto';

/** What a key is made of. */
export interface CacheKeyParts {
  /** Request method; HEAD is keyed as GET so that it is answered from the GET entry. */
  method: string;
  /** `Host` header, or undefined to leave the host out. */
  host?: string;
  /** The path, without the query string, as received (percent-encoded). */
  path: string;
  /** The query as the handler sees it (parsed by the platform). */
  query: Readonly<Record<string, unknown>>;
  /** Query parameter to leave out (the bypass switch). */
  dropParam?: string | false;
  /** Values of the `varyBy` request headers, by lower-case name (undefined when absent). */
  vary?: ReadonlyArray<readonly [string, string | undefined]>;
  /**
   * Per-user / per-tenant partition: the verified identity (hashed before use), or the anonymous
   * partition of such a route (`anonymous: 'public'`), a segment of its own that no id can give.
   */
  identity?: { scope: 'user' | 'tenant'; id: string; anonymous?: boolean };
  /** Replaces method + host + path + query when a route declares its own `key` function. */
  custom?: string;
  /** `requestTarget(host, path, query, dropParam)`, when the caller has it already. */
  target?: string;
  /** The handler that answers (`Controller.method`), so that handlers sharing a URL never share entries. */
  handler?: string;
}

/** Control characters: never part of a key or a tag. */
export const CONTROL = /[\x00-\x1f\x7f]/;
const HOST = /^[a-z0-9.\-:[\]_]+$/;

/** Thrown internally when a request has a part that must not become a key (it is then not cached). */
export class InvalidKeyPartError extends Error {}

export function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

function encode(value: string): string {
  if (CONTROL.test(value)) throw new InvalidKeyPartError();
  return encodeURIComponent(value);
}

/** Characters that encodeURIComponent leaves alone, plus `/`: such a path is already canonical. */
const CANONICAL_PATH = /^[A-Za-z0-9\-_.!~*'()/]*$/;

/** Decodes each path segment and encodes it again, so `/a%62` and `/ab` share a key. */
export function normalizePath(path: string): string {
  if (CANONICAL_PATH.test(path)) return path === '' ? '/' : path;
  let out = '';
  for (const segment of path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw new InvalidKeyPartError();
    }
    out += (out === '' && segment === '' ? '' : '/') + encode(decoded);
  }
  return out === '' ? '/' : out;
}

/** RFC 3986's path characters but `%`: such a path is its own escaped form. */
const PATH_CHARS = /^[A-Za-z0-9\-_.!~*'()/:@&=+$,;]*$/;

/**
 * The path as received, made safe for a key without decoding anything: `%` and every character
 * outside RFC 3986's path characters are escaped, so that distinct spellings stay distinct keys
 * and no spelling can forge a key's `|` separators.
 */
export function escapePath(path: string): string {
  if (PATH_CHARS.test(path)) return path === '' ? '/' : path;
  if (CONTROL.test(path)) throw new InvalidKeyPartError();
  try {
    return path.replace(/[^A-Za-z0-9\-_.!~*'()/:@&=+$,;]+/g, (run) => encodeURIComponent(run));
  } catch {
    throw new InvalidKeyPartError(); // a lone surrogate
  }
}

function flatten(prefix: string, value: unknown, pairs: string[][]): void {
  if (value === undefined || value === null) {
    pairs.push([prefix, '']);
  } else if (Array.isArray(value)) {
    for (const item of value) flatten(prefix, item, pairs);
  } else if (typeof value === 'object') {
    for (const name of Object.keys(value as object).sort()) {
      flatten(`${prefix}[${name}]`, (value as Record<string, unknown>)[name], pairs);
    }
  } else {
    pairs.push([prefix, String(value)]);
  }
}

/** True for a query without parameters (parsed queries may have no prototype: no `Object.keys` array for it). */
function isEmpty(query: Readonly<Record<string, unknown>>): boolean {
  for (const _ in query) return false;
  return true;
}

/**
 * Canonical query string: parameters sorted by name, repeated parameters kept in the order the
 * handler sees them, nested objects (extended parsers) as `a[b]=…`, everything percent-encoded.
 */
export function canonicalQuery(query: Readonly<Record<string, unknown>>, dropParam?: string | false): string {
  if (isEmpty(query)) return '';
  const pairs: string[][] = [];
  for (const name of Object.keys(query).sort()) {
    if (name === dropParam) continue;
    flatten(name, query[name], pairs);
  }
  // A stable sort keeps the relative order of repeated names (`?a=2&a=1` is not `?a=1&a=2`).
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs.map(([name, value]) => `${encode(name)}=${encode(value)}`).join('&');
}

/** Handler ids as keys carry them, encoded once each (`Controller.method`: the app's own, a bounded set). */
const handlers = new Map<string, string>();

function encodedHandler(handler: string): string {
  let encoded = handlers.get(handler);
  if (encoded === undefined) {
    encoded = encode(handler);
    if (handlers.size < 10_000) handlers.set(handler, encoded);
  }
  return encoded;
}

/**
 * The one function that builds every HTTP cache key. Returns undefined when a part of the
 * request cannot safely become a key (control characters, a malformed percent-encoding, an odd
 * `Host`): such a request is served without the cache, never under a malformed key.
 *
 * Shape: `GET example.com/api/users?page=2|v:accept-language=en|u:<sha256>`; keys longer than
 * `maxKeyLength` become `GET /api/users…#<sha256 of the whole key>`.
 */
export function buildCacheKey(parts: CacheKeyParts, maxKeyLength = 256): string | undefined {
  try {
    let key: string;
    if (parts.custom !== undefined) {
      key = `custom:${encode(parts.custom)}`;
    } else {
      const method = parts.method.toUpperCase() === 'HEAD' ? 'GET' : parts.method.toUpperCase();
      const target = parts.target ?? requestTarget(parts.host, parts.path, parts.query, parts.dropParam);
      if (target === undefined) return undefined;
      key = `${method} ${target}`;
    }
    for (const [name, value] of parts.vary ?? []) {
      key += `|v:${name}=${value === undefined ? '' : encode(value.trim())}`;
    }
    if (parts.handler !== undefined) key += `|h:${encodedHandler(parts.handler)}`;
    const identity = parts.identity;
    if (identity !== undefined) {
      const scope = identity.scope === 'user' ? 'u' : 't';
      key += identity.anonymous === true ? `|a:${scope}` : `|${scope}:${digest(identity.id).slice(0, 22)}`;
    }
    if (key.length > maxKeyLength) {
      return `${key.slice(0, Math.min(64, maxKeyLength - 45))}#${digest(key)}`;
    }
    return key;
  } catch (error) {
    if (error instanceof InvalidKeyPartError) return undefined;
    throw error;
  }
}

/**
 * What a request asks for: host (lower-cased), path and canonical query. The path is normalized
 * (percent-encoding decoded and encoded again) for URI tags, or kept as received for keys
 * (`normalize` false), since a router may send two spellings of one path to different handlers.
 * Undefined when a part cannot be used (control characters, a malformed encoding, an odd `Host`).
 */
export function requestTarget(
  host: string | undefined,
  path: string,
  query: Readonly<Record<string, unknown>>,
  dropParam?: string | false,
  normalize = true,
): string | undefined {
  try {
    const h = host?.toLowerCase() ?? '';
    if (h !== '' && !HOST.test(h)) return undefined;
    const q = canonicalQuery(query, dropParam);
    return `${h}${normalize ? normalizePath(path) : escapePath(path)}${q === '' ? '' : `?${q}`}`;
  } catch (error) {
    if (error instanceof InvalidKeyPartError) return undefined;
    throw error;
  }
}

/**
 * The tag every cached GET entry carries for its own URI (a {@link requestTarget}), so that a
 * successful unsafe request to the same URI invalidates it (RFC 9111 §4.4). Per-user and
 * per-tenant variants are tagged per identity: one user's write leaves others' entries alone.
 * The anonymous partition is shared, so it carries the shared tag: any write to the URI drops it.
 * It starts with a control character: no user tag can clash.
 */
export function uriTag(target: string, identity?: { scope: 'user' | 'tenant'; id: string; anonymous?: boolean }): string {
  const partition =
    identity === undefined || identity.anonymous === true
      ? ''
      : `${identity.scope === 'user' ? 'u' : 't'}:${digest(identity.id).slice(0, 22)}|`;
  return `\u0001uri:${partition}${target}`;
}
