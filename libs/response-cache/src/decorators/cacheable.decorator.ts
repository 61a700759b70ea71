import { SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import { ResponseCacheInterceptor } from '../interceptor/response-cache.interceptor';
import { checkTagSpecs } from '../key/tags';
import { CACHEABLE_METADATA } from '../response-cache.constants';
import { ResponseCacheConfigError } from '../response-cache.errors';
import {
  ROUTE_TTL_SUSPECT,
  describeValue,
  rejectUnknownKeys,
  seconds,
  validateStatuses,
  warnIfMilliseconds,
  freshnessMode,
} from '../options/option-checks';
import type { CacheableOptions } from '../response-cache.options';

const SCOPES = new Set(['public', 'user', 'tenant']);
const CACHE_CONTROL_KEYS = [
  'public',
  'maxAge',
  'sMaxAge',
  'noCache',
  'mustRevalidate',
  'immutable',
  'staleWhileRevalidate',
  'staleIfError',
];
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Every key of {@link CacheableOptions}: anything else is a typo, refused when the decorator runs. */
const CACHEABLE_KEYS: readonly (keyof CacheableOptions)[] = [
  'ttl',
  'tags',
  'varyBy',
  'scope',
  'anonymous',
  'resultTags',
  'cacheControl',
  'key',
  'statuses',
  'staleWhileRevalidate',
  'staleIfError',
  'mustRevalidate',
  'freshness',
  'edge',
];

function validate(options: CacheableOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new ResponseCacheConfigError(
      '@Cacheable',
      `expected an options object, got ${describeValue(options)}`,
      'e.g. @Cacheable({ ttl: 60 }).',
    );
  }
  rejectUnknownKeys('@Cacheable ', options, CACHEABLE_KEYS);
  warnIfMilliseconds('@Cacheable ttl', options.ttl, ROUTE_TTL_SUSPECT);
  if (options.ttl !== undefined) seconds('@Cacheable ttl', options.ttl, 0.001);
  if (options.staleWhileRevalidate !== undefined) seconds('@Cacheable staleWhileRevalidate', options.staleWhileRevalidate);
  if (options.staleIfError !== undefined) seconds('@Cacheable staleIfError', options.staleIfError);
  if (options.cacheControl !== undefined && typeof options.cacheControl === 'object' && options.cacheControl !== null) {
    rejectUnknownKeys('@Cacheable cacheControl.', options.cacheControl, CACHE_CONTROL_KEYS);
  }
  if (options.scope !== undefined && !SCOPES.has(options.scope)) {
    throw new ResponseCacheConfigError(
      '@Cacheable scope',
      `"${String(options.scope)}" is not a scope`,
      'Use "public", "user" or "tenant".',
    );
  }
  validatePartitions(options);
  for (const header of options.varyBy ?? []) {
    if (typeof header !== 'string' || !HEADER_NAME.test(header)) {
      throw new ResponseCacheConfigError(
        '@Cacheable varyBy',
        `"${String(header)}" is not a header name`,
        'List request header names, e.g. ["accept-language"].',
      );
    }
    if (['authorization', 'cookie'].includes(header.toLowerCase())) {
      throw new ResponseCacheConfigError(
        '@Cacheable varyBy',
        `varying by "${header}" would key the cache on a raw credential`,
        'Use scope: "user" (or "tenant"), which keys on the verified identity, hashed.',
      );
    }
  }
  checkTagSpecs('@Cacheable tags', options.tags ?? [], describeValue);
  if (options.statuses !== undefined) validateStatuses('@Cacheable statuses', options.statuses);
  if (options.freshness !== undefined) freshnessMode('@Cacheable freshness', options.freshness);
  if (options.key !== undefined && typeof options.key !== 'function') {
    throw new ResponseCacheConfigError('@Cacheable key', 'expected a function', 'Pass (ctx) => string.');
  }
  const cc = options.cacheControl;
  if (typeof cc === 'object' && cc !== null) {
    for (const field of ['maxAge', 'sMaxAge', 'staleWhileRevalidate', 'staleIfError'] as const) {
      if (cc[field] !== undefined) seconds(`@Cacheable cacheControl.${field}`, cc[field]);
    }
    if (cc.sMaxAge !== undefined && options.scope !== undefined && options.scope !== 'public') {
      throw new ResponseCacheConfigError(
        '@Cacheable cacheControl.sMaxAge',
        'a per-user or per-tenant response must not be stored by shared caches',
        'Remove sMaxAge or make the route public.',
      );
    }
  } else if (typeof cc === 'string') {
    if (/[\r\n]/.test(cc))
      throw new ResponseCacheConfigError('@Cacheable cacheControl', 'contains a line break', 'Pass a single header value.');
    if (options.scope !== undefined && options.scope !== 'public' && /\b(public|s-maxage)\b/i.test(cc)) {
      throw new ResponseCacheConfigError(
        '@Cacheable cacheControl',
        `"${cc}" lets shared caches store a per-user response`,
        'Drop "public"/"s-maxage"; per-user routes always send "private".',
      );
    }
  } else if (cc !== undefined && cc !== false) {
    throw new ResponseCacheConfigError('@Cacheable cacheControl', 'expected a string, directives or false', 'e.g. { maxAge: 60 }.');
  }
}

/** `anonymous` (only on per-user and per-tenant routes) and `resultTags`. */
function validatePartitions(options: CacheableOptions): void {
  const anonymous = options.anonymous;
  if (anonymous !== undefined && anonymous !== 'bypass' && anonymous !== 'public') {
    throw new ResponseCacheConfigError('@Cacheable anonymous', `"${String(anonymous)}" is not a policy`, 'Use "public" or "bypass".');
  }
  if (anonymous !== undefined && (options.scope ?? 'public') === 'public') {
    throw new ResponseCacheConfigError(
      '@Cacheable anonymous',
      'only a per-user or per-tenant route has anonymous callers apart from identified ones',
      'Add scope: "user" (or "tenant"), e.g. @Cacheable({ scope: "user", anonymous: "public" }).',
    );
  }
  if (options.resultTags !== undefined && typeof options.resultTags !== 'function') {
    throw new ResponseCacheConfigError(
      '@Cacheable resultTags',
      `expected a function, got ${describeValue(options.resultTags)}`,
      'Pass (result, ctx) => tags, e.g. (page) => page.posts.map((p) => `post:${p.id}`).',
    );
  }
}

/**
 * Marks a handler (or every GET handler of a controller) as cacheable, and binds the cache's
 * interceptor to it. TTLs are in seconds.
 *
 * ```ts
 * @Get(':id')
 * @Cacheable({ ttl: 60, tags: ['users', 'user:{id}'] })
 * findOne(@Param('id') id: string) { … }
 * ```
 */
export function Cacheable(options: CacheableOptions = {}): ClassDecorator & MethodDecorator {
  validate(options);
  return applyDecorators(SetMetadata(CACHEABLE_METADATA, options), UseInterceptors(ResponseCacheInterceptor));
}
