import { Logger } from '@nestjs/common';
import type { Clock } from '../clock';
import { Throttle } from './throttle';

/** How many distinct messages are rate-limited apart at most (the most recent keep their own limit). */
const MAX_DISTINCT = 100;

/**
 * Tags that could not be resolved for a request: a warning a second per distinct message (which
 * tag, which route), so that one route's repeated failure never hides another's first one.
 */
export class TagErrorLog {
  private readonly logger = new Logger('ResponseCache');
  private readonly throttles = new Map<string, Throttle>();

  constructor(private readonly clock: Clock) {}

  report(message: string): void {
    let throttle = this.throttles.get(message);
    if (throttle === undefined) {
      if (this.throttles.size >= MAX_DISTINCT) this.throttles.delete(this.throttles.keys().next().value as string);
      throttle = new Throttle(1000, () => this.clock.now());
      this.throttles.set(message, throttle);
    }
    const held = throttle.pass();
    if (held === undefined) return;
    this.logger.warn(`${message}${held > 0 ? ` (${held} more like it suppressed)` : ''}`);
  }
}
