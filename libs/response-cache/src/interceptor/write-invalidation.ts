import { CallHandler, ExecutionContext } from '@nestjs/common';
import { Observable, mergeMap } from 'rxjs';
import type { CacheEngine } from '../engine/cache-engine';
import { HttpExchange, headerString } from '../http/http-exchange';
import { uriTag } from '../key/cache-key';
import { Identity, uriTarget } from '../key/request-key';
import { TagResolutionError, resolveTags } from '../key/tags';
import { TagErrorLog } from '../observability/tag-error-log';
import type { RoutePlan } from '../plan/route-plan';
import type { InvalidationContext, TagSpec } from '../response-cache.options';
import type { ResolvedCacheOptions } from '../options/resolve-options';

/**
 * Invalidation after a write: after a 2xx or 3xx result, before the response leaves, so that an
 * acknowledged write is never followed by old data. Besides the declared tags, the request's own
 * URI (the shared entry and the caller's per-user / per-tenant ones) and any same-host
 * `Location` / `Content-Location` of the response are invalidated (RFC 9111 §4.4). A tag that
 * cannot be resolved is logged (which tag, which route) and never keeps the others from being
 * invalidated.
 */
export class WriteInvalidation {
  private readonly tagErrors: TagErrorLog;

  constructor(
    private readonly cache: CacheEngine,
    private readonly options: ResolvedCacheOptions,
    private readonly identity: (context: ExecutionContext, scope: 'user' | 'tenant') => Identity | undefined,
  ) {
    this.tagErrors = new TagErrorLog(options.clock);
  }

  after(context: ExecutionContext, next: CallHandler, exchange: HttpExchange, plan: RoutePlan): Observable<unknown> {
    return next.handle().pipe(
      mergeMap(async (result: unknown) => {
        const status = exchange.status();
        if (status < 200 || status >= 400) return result;
        const ctx: InvalidationContext = { context, params: exchange.params, query: exchange.query, result };
        const tags = this.declared(plan, ctx);
        tags.push(...this.callerUriTags(context, exchange), ...this.locationTags(exchange));
        await this.cache.invalidateTags(tags);
        return result;
      }),
    );
  }

  /**
   * The route's declared tags, each resolved on its own (`{user}`: the caller's hashed identity):
   * one that fails is reported and skipped.
   */
  private declared(plan: RoutePlan, ctx: InvalidationContext): string[] {
    const tags: string[] = [];
    const specs = plan.invalidate ?? [];
    const user = specs.some((spec) => typeof spec === 'string' && spec.includes('{user}'))
      ? this.identity(ctx.context, 'user')?.id
      : undefined;
    for (const spec of specs) {
      try {
        tags.push(...resolveTags<InvalidationContext>([spec as TagSpec<InvalidationContext>], ctx, user));
      } catch (error) {
        if (!(error instanceof TagResolutionError)) throw error;
        const rest = (plan.invalidate?.length ?? 1) - 1;
        this.tagErrors.report(`${error.message} on ${plan.label}; the route's other ${rest} tag(s) and its URI were invalidated`);
      }
    }
    return tags;
  }

  /** The request URI's tags: the shared variant and the caller's own per-user / per-tenant ones. */
  private callerUriTags(context: ExecutionContext, exchange: HttpExchange): string[] {
    const target = uriTarget(this.options, exchange);
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
      const target = uriTarget(this.options, exchange, url.pathname, query);
      if (target !== undefined) tags.push(uriTag(target));
    }
    return tags;
  }
}
