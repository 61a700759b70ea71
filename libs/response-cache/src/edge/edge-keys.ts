import { createHash } from 'node:crypto';
import type { EdgeKeyLimits } from './edge-adapter';

/** Tags sent to the edge as they are: short, and in a charset every edge (and a regex) takes as is. */
const VERBATIM = /^[A-Za-z0-9_:-]{1,128}$/;
/** The cache's URI tags: `\u0001uri:` then, on per-user / per-tenant routes, `u:<id>|` or `t:<id>|`. */
const URI_TAG = '\u0001uri:';
const PARTITIONED_URI = /^\u0001uri:[ut]:[A-Za-z0-9_-]{22}\|/;

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22);
}

/**
 * The surrogate key of a cache tag, or undefined for tags that never reach the edge.
 *
 * - A declared tag in `[A-Za-z0-9_:-]`, up to 128 characters, is its own key (`user:42`).
 * - Any other declared tag is sent as `tag-<22 characters of its SHA-256>`: every edge's
 *   charset and length limits hold, and purging it still reaches every response that carries it.
 * - The shared URI tag of a request target (the cache's internal `\u0001uri:` tag) is sent as
 *   `uri-<SHA-256>`: a write invalidates its own URI at the edge too (RFC 9111 §4.4).
 * - Per-user and per-tenant URI tags, and every other internal tag, never leave the process.
 *
 * Edges that compare keys without case (Cloudflare) may purge a little more than asked
 * (`User:1` and `user:1`); never less.
 */
export function edgeKey(tag: string): string | undefined {
  if (tag.charCodeAt(0) < 32) {
    if (!tag.startsWith(URI_TAG) || PARTITIONED_URI.test(tag)) return undefined;
    return `uri-${digest(tag)}`;
  }
  return VERBATIM.test(tag) ? tag : `tag-${digest(tag)}`;
}

/** The distinct surrogate keys of `tags`, in their order. */
export function edgeKeys(tags: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const tag of tags) {
    const key = edgeKey(tag);
    if (key !== undefined) keys.add(key);
  }
  return [...keys];
}

/**
 * The tag header's value for `keys`, or undefined when they do not fit the edge's limits (too
 * many keys, too many bytes): then the response must not be cached at the edge, since a purge
 * of a key it could not carry would miss it.
 */
export function tagHeaderValue(keys: readonly string[], limits: EdgeKeyLimits): string | undefined {
  if (keys.length === 0 || keys.length > limits.maxKeys) return undefined;
  const value = keys.join(limits.separator);
  return Buffer.byteLength(value) > limits.maxHeaderBytes ? undefined : value;
}
