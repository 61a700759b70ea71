import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { CacheStore } from '../store/cache-store';
import { ResilientCacheStore } from '../store/resilient.store';

/** Options of {@link ResponseCacheHealthIndicator.check}. */
export interface CacheHealthCheckOptions {
  /** How long the store's ping may take before the store counts as unavailable, in ms. Default 250. */
  timeoutMs?: number;
  /** The cache is essential: an unavailable store is `down` (Terminus answers 503), not `degraded`. Default false. */
  required?: boolean;
}

/**
 * Terminus indicator of the cache store: reachable or not, the ping's latency, the circuit
 * breaker's state and, for the in-process store, entries and bytes. A store that does not answer
 * within `timeoutMs` (or whose circuit is open) is `degraded`, not `down`: the app keeps serving
 * from its handlers without the cache. Pass `required: true` where the cache is essential (the
 * store is then `down` and Terminus answers 503).
 */
@Injectable()
export class ResponseCacheHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(CacheStore) private readonly store: CacheStore,
  ) {}

  async check<const Key extends string>(key: Key, { timeoutMs = 250, required = false }: CacheHealthCheckOptions = {}) {
    const session = this.health.check(key);
    // `closed`, `open` or `half-open`, for stores behind the circuit breaker.
    const circuit: string | undefined = this.store instanceof ResilientCacheStore ? this.store.circuit : undefined;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.store.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      const latencyMs = Math.round((performance.now() - started) * 100) / 100;
      const stats = this.store.local === true ? await this.store.stats() : {};
      return session.up({ store: this.store.name, latencyMs, ...(circuit === undefined ? {} : { circuit }), ...stats });
    } catch (error) {
      const details = {
        store: this.store.name,
        ...(circuit === undefined ? {} : { circuit }),
        message: error instanceof Error ? error.message : String(error),
      };
      return required ? session.down(details) : session.degraded(details);
    } finally {
      clearTimeout(timer);
    }
  }
}
