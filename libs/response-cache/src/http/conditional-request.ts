/**
 * Conditional GET/HEAD evaluation, RFC 9110 §13.1.2 (If-None-Match) and §13.1.3
 * (If-Modified-Since), with the precedence of §13.2.2: If-Modified-Since is ignored when
 * If-None-Match is present. Deliberately not Express's `req.fresh`, which answers "stale" to any
 * request carrying `Cache-Control: no-cache`.
 */

/** The opaque part of an entity tag (without `W/`), for weak comparison (§8.8.3.2). */
function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/**
 * Parses an `If-None-Match` value into entity tags (`*` is returned as `['*']`). Entity tags
 * may contain commas, so the list is scanned quote by quote rather than split. Malformed
 * members are skipped.
 */
export function parseEntityTagList(value: string): string[] {
  const tags: string[] = [];
  let i = 0;
  while (i < value.length) {
    const ch = value[i];
    if (ch === ' ' || ch === '\t' || ch === ',') {
      i++;
    } else if (ch === '*') {
      tags.push('*');
      i++;
    } else {
      const weak = value.startsWith('W/', i);
      const start = weak ? i + 2 : i;
      if (value[start] !== '"') {
        const comma = value.indexOf(',', i);
        i = comma === -1 ? value.length : comma + 1;
        continue;
      }
      const end = value.indexOf('"', start + 1);
      if (end === -1) break;
      tags.push(value.slice(i, end + 1));
      i = end + 1;
    }
  }
  return tags;
}

/** §13.1.2: true when the condition is false, i.e. the client's copy matches (→ 304). */
export function ifNoneMatchMatches(header: string, etag: string): boolean {
  const current = opaque(etag);
  for (const tag of parseEntityTagList(header)) {
    if (tag === '*' || opaque(tag) === current) return true;
  }
  return false;
}

/** Parses an HTTP-date (IMF-fixdate and the obsolete forms Date.parse accepts); NaN if invalid. */
export function parseHttpDate(value: string): number {
  return /^[A-Za-z]{3},? /.test(value.trim()) ? Date.parse(value) : NaN;
}

export interface ConditionalRequest {
  method: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
}

/**
 * Whether a GET/HEAD request for a representation with `etag`, last modified at
 * `lastModifiedMs`, is answered 304 Not Modified.
 */
export function isNotModified(request: ConditionalRequest, etag: string, lastModifiedMs: number): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (request.ifNoneMatch !== undefined) return ifNoneMatchMatches(request.ifNoneMatch, etag);
  if (request.ifModifiedSince !== undefined) {
    const since = parseHttpDate(request.ifModifiedSince);
    if (Number.isNaN(since)) return false;
    return Math.floor(lastModifiedMs / 1000) <= Math.floor(since / 1000);
  }
  return false;
}
