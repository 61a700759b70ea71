import { Injectable, Logger, Optional } from '@nestjs/common';
import { CacheEvents } from './cache-events';
import { CacheStats } from './cache-stats';
import { CacheMetricsSink, RequestResult } from './metrics-sink';
import { redactSecrets } from './operation-logger';
import { Throttle } from './throttle';

/**
 * Where the cache reports what it does: the admin figures (`CacheStats`), the Prometheus metrics
 * when the module's `metrics` extra provides them, and the event stream (logs, `GET /admin/cache/events`)
 * only while someone listens. A hit costs a few counter increments and no allocation unless an
 * event listener is subscribed.
 */
@Injectable()
export class CacheTelemetry {
  private readonly logger = new Logger('ResponseCache');
  private readonly errorLog = new Throttle(1000, Date.now);

  constructor(
    private readonly stats: CacheStats,
    private readonly events: CacheEvents,
    @Optional() private readonly metrics?: CacheMetricsSink,
  ) {}

  /** A cacheable request finished the cache layer; `started` is its `performance.now()` at the start. */
  request(result: RequestResult, route: string, key: string | undefined, started: number, reason?: string): void {
    const ms = performance.now() - started;
    this.stats.request(result, route, key);
    this.metrics?.request(result, route, ms / 1000, reason);
    if (this.events.active) this.events.emit({ type: result, route, key, reason, durationMs: ms });
  }

  /** Tags were invalidated (internal tags, which start with a control character, are not reported). */
  invalidatedTags(tags: readonly string[]): void {
    const visible = tags.filter((t) => t.charCodeAt(0) > 31);
    if (visible.length === 0) return;
    this.stats.invalidation('tag', visible.join(', '));
    this.metrics?.invalidation('tag', visible.length);
    if (this.events.active) this.events.emit({ type: 'invalidation', reason: 'tag', tags: visible });
  }

  deletedKey(key: string): void {
    this.stats.invalidation('key', key);
    this.metrics?.invalidation('key');
    if (this.events.active) this.events.emit({ type: 'invalidation', reason: 'key', key });
  }

  cleared(): void {
    this.stats.invalidation('clear', '');
    this.metrics?.invalidation('clear');
    if (this.events.active) this.events.emit({ type: 'invalidation', reason: 'clear' });
  }

  /**
   * A store operation failed (the request goes on without the cache): counted, an event, and a
   * warning line at most once a second (with the number held back), secrets redacted.
   */
  storeError(store: string, operation: string, error: unknown): void {
    const message = redactSecrets(error instanceof Error ? error.message : String(error));
    this.stats.storeError();
    this.metrics?.storeError(store, operation);
    if (this.events.active) this.events.emit({ type: 'store-error', operation, store, error: message });
    const held = this.errorLog.pass();
    if (held === undefined) return;
    const suppressed = held > 0 ? ` (${held} more suppressed)` : '';
    this.logger.warn(`cache store "${store}" failed on ${operation}: ${message}; serving without the cache${suppressed}`);
  }

  /** A purge request to the edge was answered, failed or timed out. */
  edgePurge(edge: string, result: 'ok' | 'error' | 'timeout'): void {
    this.metrics?.edgePurge?.(edge, result);
  }

  warmed(path: string, ok: boolean): void {
    if (this.events.active) this.events.emit({ type: 'warm', reason: ok ? 'ok' : 'failed', route: path });
  }
}
