import { checkTagSpecs } from '../key/tags';
import { resolveRouteEdge } from '../options/edge-options';
import {
  ROUTE_TTL_SUSPECT,
  describeValue,
  flag,
  freshnessMode,
  rejectUnknownKeys,
  seconds,
  validateStatuses,
  warnIfMilliseconds,
} from '../options/option-checks';
import { OptionTable } from '../options/option-table';
import { ResponseCacheConfigError } from '../response-cache.errors';
import type { CacheableOptions } from '../response-cache.options';

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DIRECTIVES = ['public', 'maxAge', 'sMaxAge', 'noCache', 'mustRevalidate', 'immutable', 'staleWhileRevalidate', 'staleIfError'];
const TAGS_SEE = '(see [Tags from the caller and the data](#tags-from-the-caller-and-the-data))';

/** A window or TTL in seconds, when given. */
const optionalSeconds =
  (min = 0) =>
  (value: number | undefined, name: string) =>
    value === undefined ? undefined : seconds(name, value, min);

function oneOf<T extends string>(allowed: readonly T[], fix: string, what: string) {
  return (value: T | undefined, name: string): T | undefined => {
    if (value === undefined || allowed.includes(value)) return value;
    throw new ResponseCacheConfigError(name, `"${String(value)}" is not a ${what}`, fix);
  };
}

function functionOf<F>(fix: string) {
  return (value: F | undefined, name: string): F | undefined => {
    if (value === undefined || typeof value === 'function') return value;
    throw new ResponseCacheConfigError(name, `expected a function, got ${describeValue(value)}`, fix);
  };
}

function varyBy(headers: readonly string[] | undefined, name: string): readonly string[] | undefined {
  if (headers !== undefined && !Array.isArray(headers)) {
    throw new ResponseCacheConfigError(name, `expected a list of header names, got ${describeValue(headers)}`, 'e.g. ["accept-language"].');
  }
  for (const header of headers ?? []) {
    if (typeof header !== 'string' || !HEADER_NAME.test(header)) {
      throw new ResponseCacheConfigError(
        name,
        `"${String(header)}" is not a header name`,
        'List request header names, e.g. ["accept-language"].',
      );
    }
    if (['authorization', 'cookie'].includes(header.toLowerCase())) {
      throw new ResponseCacheConfigError(
        name,
        `varying by "${header}" would key the cache on a raw credential`,
        'Use scope: "user" (or "tenant"), which keys on the verified identity, hashed.',
      );
    }
  }
  return headers;
}

function cacheControl(value: CacheableOptions['cacheControl'], name: string): CacheableOptions['cacheControl'] {
  if (value === undefined || value === false) return value;
  if (typeof value === 'string') {
    if (/[\r\n]/.test(value)) throw new ResponseCacheConfigError(name, 'contains a line break', 'Pass a single header value.');
    return value;
  }
  if (typeof value !== 'object' || value === null) {
    throw new ResponseCacheConfigError(name, 'expected a string, directives or false', 'e.g. { maxAge: 60 }.');
  }
  rejectUnknownKeys(`${name}.`, value, DIRECTIVES);
  for (const field of ['maxAge', 'sMaxAge', 'staleWhileRevalidate', 'staleIfError'] as const) {
    if (value[field] !== undefined) seconds(`${name}.${field}`, value[field]);
  }
  return value;
}

/** Every `@Cacheable` option, once: its default, its check and its line of the docs. */
export const CACHEABLE_OPTIONS = {
  ttl: {
    default: 'module `ttl` (300)',
    doc: 'server-side freshness, **in seconds**',
    resolve: (value: number | undefined, name: string) => {
      const ms = optionalSeconds(0.001)(value, name);
      warnIfMilliseconds(name, value, ROUTE_TTL_SUSPECT);
      return ms;
    },
  },
  tags: {
    default: 'none',
    doc: `strings with \`{param}\` templates (\`'user:{id}'\`) and \`{user}\` (the caller's identity, hashed; \`scope: 'user'\` only), or functions \`(ctx) => string | string[]\` of \`{ context, params, query }\` ${TAGS_SEE}`,
    resolve: (value: CacheableOptions['tags'], name: string) => {
      if (value !== undefined && !Array.isArray(value)) {
        throw new ResponseCacheConfigError(
          name,
          `expected a list of tags, got ${describeValue(value)}`,
          "e.g. tags: ['users', 'user:{id}'].",
        );
      }
      checkTagSpecs(name, value ?? [], describeValue);
      return value;
    },
  },
  resultTags: {
    default: 'none',
    doc: `\`(result, ctx) => string | string[]\`: tags of the handler's result (e.g. the posts on a page), fenced race-safely ${TAGS_SEE}`,
    resolve: functionOf<CacheableOptions['resultTags']>(
      'Pass (result, ctx) => tags, e.g. (page) => page.posts.map((p) => `post:${p.id}`).',
    ),
  },
  anonymous: {
    default: "`'bypass'`",
    doc: "on `'user'`/`'tenant'` routes, callers without a verified identity: `'bypass'` (not cached) or `'public'` (one shared entry per URL, see \"Optional-auth routes\")",
    resolve: oneOf(['bypass', 'public'], 'Use "public" or "bypass".', 'policy'),
  },
  varyBy: {
    default: 'none',
    doc: 'request header names whose values split the cache; listed in `Vary` (`Authorization`/`Cookie` are refused: use `scope`)',
    resolve: varyBy,
  },
  scope: {
    default: "`'public'`",
    doc: "`'user'` or `'tenant'`: one entry per verified identity (hashed into the key), `Cache-Control: private`, `Vary: Authorization`",
    resolve: oneOf(['public', 'user', 'tenant'], 'Use "public", "user" or "tenant".', 'scope'),
  },
  cacheControl: {
    default: '`no-cache, max-age=0` (public), `private, no-cache, max-age=0` (user/tenant)',
    doc: 'client-facing `Cache-Control`: a string, directives `{ public, maxAge, sMaxAge, noCache, mustRevalidate, immutable, staleWhileRevalidate, staleIfError }` (seconds), or `false` to leave it alone; `private` is always added on per-user routes',
    resolve: cacheControl,
  },
  key: {
    default: 'method + host + path + query',
    doc: '`(ctx) => string` replacing that part of the key; the identity and `varyBy` values are still added',
    resolve: functionOf<CacheableOptions['key']>('Pass (ctx) => string.'),
  },
  statuses: {
    default: 'module `cacheableStatuses` ([200])',
    doc: 'response statuses that may be stored',
    resolve: (value: readonly number[] | undefined, name: string) => (value === undefined ? undefined : validateStatuses(name, value)),
  },
  staleWhileRevalidate: {
    default: 'module `staleWhileRevalidate` (0)',
    doc: '**seconds** past the TTL during which a stale entry is served at once (`X-Cache: STALE`) while one background refresh per key runs',
    resolve: optionalSeconds(),
  },
  staleIfError: {
    default: 'module `staleIfError` (0)',
    doc: '**seconds** past the TTL during which a stale entry is served instead of a 5xx or a thrown error',
    resolve: optionalSeconds(),
  },
  mustRevalidate: {
    default: 'module `mustRevalidate` (false)',
    doc: 'never serve this route stale, whatever the windows',
    resolve: (value: boolean | undefined, name: string) => (value === undefined ? undefined : flag(name, value)),
  },
  freshness: {
    default: "module `freshness` (`'ttl'`)",
    doc: "`'ttl'`: this route's `ttl`; `'response'`: the response's `s-maxage`, `max-age`, `Expires` and `Age` (RFC 9111, see [HTTP semantics](http.md#what-it-does-precisely))",
    resolve: (value: 'ttl' | 'response' | undefined, name: string) => (value === undefined ? undefined : freshnessMode(name, value)),
  },
  edge: {
    default: "the module's `edge`",
    doc: "`false`: this route's responses are never cacheable at the edge; `{ ttl, staleWhileRevalidate }` (seconds): the edge's lifetime for this route (see [the edge](edge.md))",
    resolve: (value: CacheableOptions['edge']) => resolveRouteEdge(value),
  },
} satisfies OptionTable<CacheableOptions>;
