import { SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import { ResponseCacheInterceptor } from '../interceptor/response-cache.interceptor';
import { checkTagSpecs } from '../key/tags';
import { INVALIDATE_TAGS_METADATA } from '../response-cache.constants';
import { ResponseCacheConfigError } from '../response-cache.errors';
import { describeValue } from '../options/option-checks';
import type { InvalidationContext, TagSpec } from '../response-cache.options';

/**
 * After the handler succeeds (2xx), invalidates these tags before the response is sent, so a
 * client that sees the acknowledgement never reads the old data afterwards. Tags are strings
 * with `{param}` templates (`'user:{id}'`) or functions of the request and the handler's result.
 */
export function InvalidateTags(...tags: TagSpec<InvalidationContext>[]): MethodDecorator & ClassDecorator {
  if (tags.length === 0) {
    throw new ResponseCacheConfigError('@InvalidateTags', 'no tags given', "Name at least one tag, e.g. @InvalidateTags('users').");
  }
  checkTagSpecs('@InvalidateTags', tags, describeValue);
  return applyDecorators(SetMetadata(INVALIDATE_TAGS_METADATA, tags), UseInterceptors(ResponseCacheInterceptor));
}
