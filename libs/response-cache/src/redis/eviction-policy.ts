import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';

/** One line when Redis will refuse writes once full (`noeviction`): the cache then stops storing and invalidating. */
export async function warnOnNoEviction(node: Redis): Promise<void> {
  try {
    const [, policy] = (await node.config('GET', 'maxmemory-policy')) as string[];
    if (policy === 'noeviction') {
      new Logger('ResponseCache').warn(
        'Redis maxmemory-policy is noeviction: once it is full, Redis refuses writes, and the cache serves without storing ' +
          '(and without hits while an invalidation waits). allkeys-lru or volatile-lru evict instead; both are safe.',
      );
    }
  } catch {
    // CONFIG may be disabled (managed Redis): nothing to say.
  }
}
