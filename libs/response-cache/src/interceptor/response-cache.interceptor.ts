import { CallHandler, ExecutionContext, Injectable, NestInterceptor, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Observable } from 'rxjs';
import { RESPONSE_CACHE_OPTIONS } from '../response-cache.constants';
import { ResponseCacheError } from '../response-cache.errors';

/**
 * What `@Cacheable()` and `@InvalidateTags()` bind to the routes they mark. It does nothing per
 * request (`ResponseCacheModule` runs the cache once, ahead of every other interceptor, so binding
 * this anywhere else is harmless too); at startup it checks that the module is there, so that a
 * forgotten `ResponseCacheModule.forRoot()` stops the app with a message instead of leaving its
 * routes uncached.
 */
@Injectable()
export class ResponseCacheInterceptor implements NestInterceptor, OnModuleInit {
  constructor(private readonly moduleRef: ModuleRef) {}

  onModuleInit(): void {
    try {
      this.moduleRef.get(RESPONSE_CACHE_OPTIONS, { strict: false });
    } catch {
      throw new ResponseCacheError(
        'ResponseCacheInterceptor found no ResponseCacheModule: import ResponseCacheModule.forRoot() (or forRootAsync()) once, in the root module.',
      );
    }
  }

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}
