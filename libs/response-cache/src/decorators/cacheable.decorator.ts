import { SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import { ResponseCacheInterceptor } from '../interceptor/response-cache.interceptor';
import { describeValue } from '../options/option-checks';
import { resolveTable } from '../options/option-table';
import { CACHEABLE_METADATA } from '../response-cache.constants';
import { ResponseCacheConfigError } from '../response-cache.errors';
import type { CacheableOptions } from '../response-cache.options';
import { CACHEABLE_OPTIONS } from './cacheable-options';

/** The checks that relate two options: what a per-user or per-tenant route may not do. */
function checkCombinations(options: CacheableOptions): void {
  const perIdentity = (options.scope ?? 'public') !== 'public';
  if (options.anonymous !== undefined && !perIdentity) {
    throw new ResponseCacheConfigError(
      '@Cacheable anonymous',
      'only a per-user or per-tenant route has anonymous callers apart from identified ones',
      'Add scope: "user" (or "tenant"), e.g. @Cacheable({ scope: "user", anonymous: "public" }).',
    );
  }
  const cc = options.cacheControl;
  if (perIdentity && typeof cc === 'object' && cc.sMaxAge !== undefined) {
    throw new ResponseCacheConfigError(
      '@Cacheable cacheControl.sMaxAge',
      'a per-user or per-tenant response must not be stored by shared caches',
      'Remove sMaxAge or make the route public.',
    );
  }
  if (perIdentity && typeof cc === 'string' && /\b(public|s-maxage)\b/i.test(cc)) {
    throw new ResponseCacheConfigError(
      '@Cacheable cacheControl',
      `"${cc}" lets shared caches store a per-user response`,
      'Drop "public"/"s-maxage"; per-user routes always send "private".',
    );
  }
}

function validate(options: CacheableOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new ResponseCacheConfigError(
      '@Cacheable',
      `expected an options object, got ${describeValue(options)}`,
      'e.g. @Cacheable({ ttl: 60 }).',
    );
  }
  resolveTable(CACHEABLE_OPTIONS, options, '@Cacheable ');
  checkCombinations(options);
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
