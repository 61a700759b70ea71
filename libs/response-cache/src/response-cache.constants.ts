/** Metadata key written by `@Cacheable()`. */
export const CACHEABLE_METADATA = 'response-cache:cacheable';
/** Metadata key written by `@InvalidateTags()`. */
export const INVALIDATE_TAGS_METADATA = 'response-cache:invalidate-tags';
/** Metadata key written by `@NoCache()`. */
export const NO_CACHE_METADATA = 'response-cache:no-cache';

/** Injection token of the resolved (validated, defaulted) module options. */
export const RESPONSE_CACHE_OPTIONS = Symbol('RESPONSE_CACHE_OPTIONS');
