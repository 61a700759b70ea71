import { Injectable } from '@nestjs/common';
import { CacheEvent, CacheEventListener, CacheEvents } from '../../../../libs/response-cache/src';
import { Counter, Registry } from 'prom-client';

/**
 * The demo's Prometheus registry: one per app (so tests can boot several apps in one process),
 * with `demo_db_queries_total` and the cache counters fed from the cache's events.
 */
@Injectable()
export class DemoMetrics extends CacheEventListener {
  readonly registry = new Registry();
  readonly dbQueries = new Counter({
    name: 'demo_db_queries_total',
    help: 'Calls into the demo data layer',
    labelNames: ['operation'],
    registers: [this.registry],
  });
  private readonly hits = new Counter({
    name: 'cache_hits_total',
    help: 'Responses served from the cache',
    labelNames: ['route'],
    registers: [this.registry],
  });
  private readonly misses = new Counter({
    name: 'cache_misses_total',
    help: 'Cacheable requests that ran the handler',
    labelNames: ['route'],
    registers: [this.registry],
  });
  private readonly bypasses = new Counter({
    name: 'cache_bypass_total',
    help: 'Requests that skipped the cache',
    labelNames: ['route', 'reason'],
    registers: [this.registry],
  });
  private readonly stale = new Counter({
    name: 'cache_stale_total',
    help: 'Stale entries served (stale-while-revalidate, stale-if-error)',
    labelNames: ['route', 'reason'],
    registers: [this.registry],
  });
  private readonly coalesced = new Counter({
    name: 'cache_coalesced_total',
    help: 'Requests that waited for a concurrent fill',
    labelNames: ['route'],
    registers: [this.registry],
  });
  private readonly invalidations = new Counter({
    name: 'cache_invalidations_total',
    help: 'Invalidations',
    labelNames: ['type'],
    registers: [this.registry],
  });
  private readonly storeErrors = new Counter({
    name: 'cache_store_errors_total',
    help: 'Failed store operations',
    labelNames: ['store', 'operation'],
    registers: [this.registry],
  });
  constructor(events: CacheEvents) {
    super(events);
  }

  protected record(event: CacheEvent): void {
    const route = event.route ?? '';
    switch (event.type) {
      case 'hit':
        this.hits.inc({ route });
        break;
      case 'miss':
        this.misses.inc({ route });
        break;
      case 'bypass':
        this.bypasses.inc({ route, reason: event.reason ?? 'unknown' });
        break;
      case 'stale':
        this.stale.inc({ route, reason: event.reason ?? 'stale' });
        break;
      case 'coalesced':
        this.coalesced.inc({ route });
        break;
      case 'invalidation':
        this.invalidations.inc({ type: event.reason ?? 'tag' }, event.reason === 'tag' ? (event.tags?.length ?? 1) : 1);
        break;
      case 'store-error':
        this.storeErrors.inc({ store: event.store ?? 'unknown', operation: event.operation ?? 'unknown' });
        break;
      default:
        break;
    }
  }
}
