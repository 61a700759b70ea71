import { SetMetadata } from '@nestjs/common';
import { NO_CACHE_METADATA } from '../response-cache.constants';

/** Excludes a handler (or a controller) from caching, even under a class-level `@Cacheable()`. */
export const NoCache = (): MethodDecorator & ClassDecorator => SetMetadata(NO_CACHE_METADATA, true);
