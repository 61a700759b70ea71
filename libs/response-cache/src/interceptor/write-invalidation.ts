import { CallHandler, ExecutionContext } from '@nestjs/common';
import { Observable, mergeMap } from 'rxjs';
import type { ResponseCacheService } from '../engine/response-cache.service';
import { HttpExchange, headerString } from '../http/http-exchange';
import { requestTarget, uriTag } from '../key/cache-key';
import { TagResolutionError, resolveTags } from '../key/tags';
import type { CacheRequestContext, InvalidationContext, ResolvedCacheOptions, TagSpec } from '../response-cache.options';

/** A verified identity as keys and URI tags carry it (hashed). */
export interface Identity {
  scope: 'user' | 'tenant';
  id: string;
}

/** The request's normalized host + path + query, from which its key and URI tag are built. */
export function targetOf(
  options: Pick<ResolvedCacheOptions, 'keyIncludesHost' | 'bypassQueryParam'>,
  exchange: HttpExchange,
  path = exchange.path,
  query = exchange.query,
): string | undefined {
  const host = options.keyIncludesHost ? headerString(exchange.headers.host) : undefined;
  return requestTarget(host, path, query, options.bypassQueryParam);
}

export function requestContext(context: ExecutionContext, exchange: HttpExchange): CacheRequestContext {
  return { context, params: exchange.params, query: exchange.query };
}

/**
 * Invalidation after a write: after a 2xx or 3xx result, before the response leaves, so that an
 * acknowledged write is never followed by old data. Besides the declared tags, the request's own
 * URI (the shared entry and the caller's per-user / per-tenant ones) and any same-host
 * `Location` / `Content-Location` of the response are invalidated (RFC 9111 §4.4).
 */
export class WriteInvalidation {
  constructor(
    private readonly cache: ResponseCacheService,
    private readonly options: ResolvedCacheOptions,
    private readonly identity: (context: ExecutionContext, scope: 'user' | 'tenant') => Identity | undefined,
  ) {}

  after(
    context: ExecutionContext,
    next: CallHandler,
    exchange: HttpExchange,
    specs: readonly TagSpec<InvalidationContext>[],
  ): Observable<unknown> {
    return next.handle().pipe(
      mergeMap(async (result: unknown) => {
        const status = exchange.status();
        if (status < 200 || status >= 400) return result;
        try {
          const tags = resolveTags(specs, { ...requestContext(context, exchange), result });
          tags.push(...this.callerUriTags(context, exchange), ...this.locationTags(exchange));
          await this.cache.invalidateTags(tags);
        } catch (error) {
          if (!(error instanceof TagResolutionError)) throw error;
          this.cache.storeError('resolveTags', error);
        }
        return result;
      }),
    );
  }

  /** The request URI's tags: the shared variant and the caller's own per-user / per-tenant ones. */
  private callerUriTags(context: ExecutionContext, exchange: HttpExchange): string[] {
    const target = targetOf(this.options, exchange);
    if (target === undefined) return [];
    const tags = [uriTag(target)];
    for (const scope of ['user', 'tenant'] as const) {
      const identity = this.identity(context, scope);
      if (identity !== undefined) tags.push(uriTag(target, identity));
    }
    return tags;
  }

  /** URIs named by `Location` / `Content-Location` on the same host as the request. */
  private locationTags(exchange: HttpExchange): string[] {
    const host = headerString(exchange.headers.host);
    const tags: string[] = [];
    for (const name of ['location', 'content-location']) {
      const value = exchange.getHeader(name);
      if (value === undefined || host === undefined) continue;
      let url: URL;
      try {
        url = new URL(value, `http://${host}`);
      } catch {
        continue;
      }
      if (url.host.toLowerCase() !== host.toLowerCase()) continue;
      const query = Object.fromEntries([...url.searchParams.keys()].map((k) => [k, url.searchParams.getAll(k)]));
      const target = targetOf(this.options, exchange, url.pathname, query);
      if (target !== undefined) tags.push(uriTag(target));
    }
    return tags;
  }
}
