import { cacheEntry } from '../testing/entry-builder';
import { ManualClock } from '../clock';
import { CacheEvents } from '../observability/cache-events';
import { CacheStats } from '../observability/cache-stats';
import { CacheTelemetry } from '../observability/cache-telemetry';
import { resolveOptions } from '../options/resolve-options';
import { CacheStore } from '../store/cache-store';
import { MemoryCacheStore } from '../store/memory.store';
import type { DraftEntry } from './engine-entries';
import { CacheEngine } from './cache-engine';

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** An entry (its fence is the engine's to attach), stored now, fresh for 60 s. */
const draft = (body: string, clock: ManualClock): DraftEntry => {
  const { fence: _fence, ...entry } = cacheEntry({ body, headers: {} }, clock.now());
  return entry;
};

/** A store whose every operation first passes `before()` (the harness's points of interleaving), then `after()`. */
function pausing(
  inner: CacheStore,
  before: () => Promise<number | void>,
  after: (step: number | void) => void = () => undefined,
): CacheStore {
  const paused = Object.create(inner) as CacheStore;
  for (const name of ['get', 'set', 'snapshot', 'invalidateTags', 'delete'] as const) {
    const method = inner[name].bind(inner) as (...args: unknown[]) => Promise<unknown>;
    Object.assign(paused, {
      [name]: async (...args: unknown[]) => {
        const step = await before();
        const result = await method(...args);
        after(step);
        return result;
      },
    });
  }
  Object.assign(paused, { peek: undefined, local: false });
  return paused;
}

const service = (store: CacheStore, clock: ManualClock) =>
  new CacheEngine(resolveOptions({ clock, store }), new CacheTelemetry(new CacheStats(), new CacheEvents()));

/** Every way to give `ops` ordered operations a non-decreasing position among `points` points. */
function schedules(ops: number, points: number): number[][] {
  if (ops === 0) return [[]];
  return schedules(ops - 1, points).flatMap((head) => {
    const from = head.length === 0 ? 0 : head[head.length - 1];
    return Array.from({ length: points - from }, (_, i) => [...head, from + i]);
  });
}

/**
 * One fill of a list whose tags come from its result (post:1), on one instance, and one write to
 * post 1 on another instance sharing the store: the write commits its data (step 0) and
 * invalidates post:1 (its store operations, steps 1…), each step placed at one of the fill's
 * points (before each of its store operations, around the handler's read, at the end).
 */
async function run(schedule: readonly number[]): Promise<{ stored: string | undefined; data: string }> {
  const clock = new ManualClock();
  const memory = new MemoryCacheStore({ clock });
  let data = 'old';
  const allowed = schedule.map(() => gate());
  const done = schedule.map(() => gate());
  let point = 0;
  // The fill reaches a point: the writer's steps placed there run to completion first.
  const reach = async () => {
    const here = point++;
    for (let step = 0; step < schedule.length; step++) {
      if (schedule[step] !== here) continue;
      allowed[step].open();
      await done[step].promise;
    }
  };
  let writerStep = 1;
  const writerStore = pausing(
    memory,
    async () => {
      const step = writerStep++;
      if (step < schedule.length) await allowed[step].promise;
      return step;
    },
    (step) => done[step as number]?.open(), // done once the operation itself has run
  );
  const reader = service(
    pausing(memory, () => reach()),
    clock,
  );
  const writer = service(writerStore, clock);
  const write = (async () => {
    await allowed[0].promise;
    data = 'new';
    done[0].open();
    await writer.invalidateTags(['post:1']);
  })();
  await reader.fill(
    'GET /posts',
    ['posts-page'],
    60_000,
    async () => {
      await reach();
      const read = data;
      await reach();
      return { value: read, entry: draft(read, clock), tags: ['post:1'] };
    },
    { resultTags: true },
  );
  await reader.settle();
  while (point < Math.max(...schedule) + 1) await reach();
  for (const step of allowed) step.open();
  await write;
  const entry = await memory.get('GET /posts');
  return { stored: entry?.body, data };
}

describe('result-derived tags: race harness', () => {
  const writerSteps = 3; // commit the data; bump the epoch; bump post:1
  const fillPoints = 8; // 2 snapshots before, 2 around the read, 2 reads after, the write, the end

  it('a write to a tag learned from the result, interleaved at every step of a fill, never leaves a stale entry', async () => {
    let storedSomething = 0;
    for (const schedule of schedules(writerSteps, fillPoints)) {
      const { stored, data } = await run(schedule);
      if (stored !== undefined) storedSomething++;
      expect({ schedule, stored: stored ?? data }).toEqual({ schedule, stored: data });
    }
    // Not vacuous: the fills that run wholly before or after the write are stored.
    expect(storedSomething).toBeGreaterThan(0);
  });

  it('an invalidation of a result tag after the fill removes its entry', async () => {
    const clock = new ManualClock();
    const store = new MemoryCacheStore({ clock });
    const cache = service(store, clock);
    const produce = async () => ({ value: 'v', entry: draft('v', clock), tags: ['post:1', 'post:2'] });
    await cache.fill('k', ['posts'], 60_000, produce, { resultTags: true });
    await cache.settle();
    expect((await store.get('k'))?.body).toBe('v');
    await cache.invalidateTags(['post:3']);
    expect((await store.get('k'))?.body).toBe('v');
    await cache.invalidateTags(['post:2']);
    expect(await store.get('k')).toBeUndefined();
  });

  it('result tags without the resultTags option are never stored unfenced', async () => {
    const clock = new ManualClock();
    const store = new MemoryCacheStore({ clock });
    const cache = service(store, clock);
    await cache.fill('k', [], 60_000, async () => ({ value: 'v', entry: draft('v', clock), tags: ['post:1'] }));
    await cache.settle();
    expect(await store.get('k')).toBeUndefined();
  });
});
