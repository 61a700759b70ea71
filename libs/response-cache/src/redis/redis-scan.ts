import type { Redis } from 'ioredis';
import { KeyPage } from '../store/cache-store';

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function parseCursor(cursor: string): [number, string] {
  const match = /^(\d+):(\d+)$/.exec(cursor);
  if (match === null) throw new RangeError(`invalid cursor "${cursor}"`);
  return [Number(match[1]), match[2]];
}

/**
 * Entry keys under `prefix` matching `pattern` on `nodes`, with SCAN (never KEYS). The cursor is
 * `<node>:<scan cursor>`; a page holds at least `limit` keys unless the listing ends, and at most
 * what ten SCAN calls return.
 */
export async function scanEntryKeys(nodes: Redis[], prefix: string, pattern: string, limit: number, cursor?: string): Promise<KeyPage> {
  let [nodeIndex, scanCursor] = cursor === undefined ? [0, '0'] : parseCursor(cursor);
  const match = `${escapeGlob(prefix)}e:${pattern}`;
  const strip = prefix.length + 2;
  const keys: string[] = [];
  for (let calls = 0; calls < 10 && nodeIndex < nodes.length && keys.length < limit; calls++) {
    const [next, batch] = await nodes[nodeIndex].scan(scanCursor, 'MATCH', match, 'COUNT', Math.max(limit, 100));
    for (const k of batch) keys.push(k.slice(strip));
    if (next === '0') {
      nodeIndex++;
      scanCursor = '0';
    } else {
      scanCursor = next;
    }
  }
  return { keys, cursor: nodeIndex < nodes.length ? `${nodeIndex}:${scanCursor}` : undefined };
}

/** Every entry key under `prefix` on `node`, batch by batch (SCAN, never KEYS). */
export async function* entryKeyBatches(node: Redis, prefix: string): AsyncGenerator<string[]> {
  const match = `${escapeGlob(prefix)}e:*`;
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    yield keys;
  } while (cursor !== '0');
}
