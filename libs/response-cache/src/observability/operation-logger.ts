import type { Clock } from '../clock';
import { CacheEvent } from './cache-events';
import { Throttle } from './throttle';

/** Credentials that error messages may carry (a Redis URL with a password, an AUTH argument). */
export function redactSecrets(message: string): string {
  return message.replace(/([a-z][a-z0-9+.-]*:\/\/[^:@/\s]*:)[^@\s]+@/gi, '$1***@').replace(/\bAUTH\s.*$/gim, 'AUTH ***');
}

/** At most one store-error line per this many ms; the next one says how many were left out. */
const STORE_ERROR_LINE_EVERY_MS = 1000;

/**
 * One JSON line per cache operation (`logOperations: true`), straight to stdout as a log
 * shipper expects. Lines carry the route pattern and the key (identities in it are hashed), never
 * a body or a credential. Store errors are rate-limited: a dead Redis under load would otherwise
 * write a line per request.
 */
export class OperationLogger {
  private readonly storeErrors: Throttle;

  constructor(
    private readonly clock: Clock,
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {
    this.storeErrors = new Throttle(STORE_ERROR_LINE_EVERY_MS, () => clock.now());
  }

  log(event: CacheEvent): void {
    const now = this.clock.now();
    const line: Record<string, unknown> = {
      time: new Date(now).toISOString(),
      level: event.type === 'store-error' ? 'warn' : 'info',
      msg: `cache ${event.type}`,
      ...event,
    };
    if (event.type === 'store-error') {
      const held = this.storeErrors.pass();
      if (held === undefined) return;
      if (held > 0) line.suppressed = held;
      if (typeof event.error === 'string') line.error = redactSecrets(event.error);
    }
    if (typeof line.durationMs === 'number') line.durationMs = Math.round(line.durationMs * 1000) / 1000;
    this.write(`${JSON.stringify(line)}\n`);
  }
}
