import type { Clock } from '../clock';
import type { HttpExchange } from './http-exchange';
import { TagErrorLog } from '../observability/tag-error-log';
import type { CacheScope } from '../response-cache.options';
import type { ResolvedEdge, RouteEdgeOptions } from '../edge/edge-adapter';
import { edgeKeys, tagHeaderValue } from '../edge/edge-keys';

/** What the edge headers need of a route's plan. */
export interface EdgePlan {
  scope: CacheScope;
  ttlMs: number;
  /** The route's `edge` option. */
  edge?: RouteEdgeOptions;
  label: string;
}

/** Keeps a response out of the edge (RFC 9213 `no-store`; `max-age=0` for edges that read only that). */
const NOT_AT_EDGE = 'no-store, max-age=0';

/**
 * The headers that tell the edge what it may cache. A public response the cache stored or
 * served from its store carries its tags as surrogate keys (the edge's tag header) and the edge's
 * lifetime (`CDN-Cache-Control` / `Surrogate-Control`); every other response of a cacheable route
 * (per-user, bypassed, stale, an error, a fill the store did not take, keys beyond the edge's
 * limits) says `no-store` to the edge, so that the edge never keeps what the app cannot purge.
 */
export class EdgeHeaders {
  private readonly log: TagErrorLog;

  constructor(
    private readonly edge: ResolvedEdge | undefined,
    clock: Clock,
  ) {
    this.log = new TagErrorLog(clock);
  }

  /** An edge is configured. */
  get enabled(): boolean {
    return this.edge !== undefined;
  }

  /** The response may not be cached at the edge (set first; {@link mark} replaces it). */
  refuse(exchange: HttpExchange): void {
    if (this.edge !== undefined) exchange.setHeader(this.edge.adapter.ttlHeader, NOT_AT_EDGE);
  }

  /** A public cached response, with its resolved tags: cacheable at the edge, purged by those tags. */
  mark(exchange: HttpExchange, plan: EdgePlan, tags: readonly string[]): void {
    const edge = this.edge;
    if (edge === undefined) return;
    if (plan.scope !== 'public' || plan.edge === false) return this.refuse(exchange);
    const adapter = edge.adapter;
    const value = tagHeaderValue(edgeKeys(tags), adapter.limits);
    if (value === undefined) {
      this.log.report(
        `the tags of ${plan.label} exceed what ${adapter.name} takes in ${adapter.tagHeader} (${adapter.limits.maxKeys} keys, ` +
          `${adapter.limits.maxHeaderBytes} bytes); its responses are not cached at the edge`,
      );
      return this.refuse(exchange);
    }
    const ttl = plan.edge?.ttl ?? edge.ttl ?? Math.floor(plan.ttlMs / 1000);
    if (ttl <= 0) return this.refuse(exchange);
    const swr = plan.edge?.staleWhileRevalidate ?? edge.staleWhileRevalidate;
    exchange.setHeader(adapter.tagHeader, value);
    exchange.setHeader(adapter.ttlHeader, swr > 0 ? `max-age=${ttl}, stale-while-revalidate=${swr}` : `max-age=${ttl}`);
  }
}
