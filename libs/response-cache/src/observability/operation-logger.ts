import { CacheEvent } from './cache-events';

/**
 * One JSON line per cache operation (`logOperations: true`). Writes straight to stdout, as a
 * log shipper expects; carries the route pattern and hashed key, never a body or a credential.
 */
export function logOperation(event: CacheEvent, write: (line: string) => void = (line) => process.stdout.write(line)): void {
  const line: Record<string, unknown> = {
    time: new Date().toISOString(),
    level: event.type === 'store-error' ? 'warn' : 'info',
    msg: `cache ${event.type}`,
    ...event,
  };
  if (typeof line.durationMs === 'number') line.durationMs = Math.round(line.durationMs * 1000) / 1000;
  write(`${JSON.stringify(line)}\n`);
}
