import { Logger } from '@nestjs/common';
import { ManualClock } from '../clock';
import { CacheEvent, CacheEvents } from '../observability/cache-events';
import { CacheStats } from '../observability/cache-stats';
import { CacheTelemetry } from '../observability/cache-telemetry';
import { resolveOptions } from '../options/resolve-options';
import { CacheStore } from '../store/cache-store';
import { MemoryCacheStore } from '../store/memory.store';
import type { DraftEntry } from './engine-entries';
import { CacheEngine } from './cache-engine';
import { ResponseCacheService } from './response-cache.service';

/** A promise the test resolves by hand: how the races below are ordered without sleeping. */
function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

function setup(store?: CacheStore) {
  const clock = new ManualClock();
  const events = new CacheEvents();
  const seen: CacheEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const options = resolveOptions({ clock, store: store ?? new MemoryCacheStore({ clock }) });
  return { clock, events, seen, service: new CacheEngine(options, new CacheTelemetry(new CacheStats(), events)), options };
}

const draft = (body: string, clock: ManualClock): DraftEntry => ({
  status: 200,
  headers: {},
  body,
  etag: `W/"${body}"`,
  storedAt: clock.now(),
  expiresAt: clock.now() + 60_000,
});

describe('CacheEngine: race-safe invalidation', () => {
  it('a slow fill that began before an invalidation never stores the data it read', async () => {
    const { service, clock } = setup();
    const handlerStarted = gate();
    const handlerMayReturn = gate();
    const fill = service.fill('GET /api/users', ['users'], 60_000, async () => {
      handlerStarted.open();
      await handlerMayReturn.promise; // the handler read "old" before the write below
      return { value: 'old', entry: draft('old', clock) };
    });
    await handlerStarted.promise;
    await service.invalidateTags(['users']); // a write commits and invalidates meanwhile
    handlerMayReturn.open();
    const result = await fill;
    expect(result.collapsed).toBe(false);
    await service.settle();
    expect(await service.lookup('GET /api/users')).toBeUndefined();

    // The next fill starts after the invalidation, so it is stored.
    await service.fill('GET /api/users', ['users'], 60_000, async () => ({ value: 'new', entry: draft('new', clock) }));
    await service.settle();
    expect(await service.lookup('GET /api/users')).toMatchObject({ body: 'new' });
  });

  it('a key delete during a fill fences that fill too', async () => {
    const { service, clock } = setup();
    const release = gate();
    const fill = service.fill('k', [], 60_000, async () => {
      await release.promise;
      return { value: 1, entry: draft('v', clock) };
    });
    await Promise.resolve();
    await service.delete('k');
    release.open();
    await fill;
    await service.settle();
    expect(await service.lookup('k')).toBeUndefined();
  });
});

describe('CacheEngine: single-flight', () => {
  it('a request arriving after an invalidation is never handed the entry of an earlier fill still being written', async () => {
    const clock = new ManualClock();
    const memory = new MemoryCacheStore({ clock });
    const writeMayLand = gate();
    const slowWrites: CacheStore = Object.assign(Object.create(memory) as CacheStore, {
      set: async (...args: Parameters<CacheStore['set']>) => {
        await writeMayLand.promise;
        return memory.set(...args);
      },
    });
    const { service } = setup(slowWrites);
    let runs = 0;
    const produce = async () => {
      runs++;
      return { value: `v${runs}`, entry: draft(`v${runs}`, clock) };
    };
    await service.fill('k', ['t'], 60_000, produce); // its write is still in flight
    await service.invalidateTags(['t']);
    const after = await service.fill('k', ['t'], 60_000, produce);
    expect(after).toMatchObject({ collapsed: false, value: 'v2' });
    expect(runs).toBe(2);
    writeMayLand.open();
    await service.settle();
    expect((await service.lookup('k')) as { body: string }).toMatchObject({ body: 'v2' });
  });

  it('a request that joins a flight after a write was acknowledged is never handed what the leader read before it', async () => {
    const { service, clock } = setup();
    let data = 'old';
    const leaderRead = gate();
    const release = gate();
    const produce = async () => {
      const read = data;
      leaderRead.open();
      await release.promise;
      return { value: read, entry: draft(read, clock) };
    };
    const leader = service.fill('k', ['t'], 60_000, produce);
    await leaderRead.promise; // the leader's handler read "old"
    data = 'new';
    await service.invalidateTags(['t']); // the write is acknowledged
    const follower = service.fill('k', ['t'], 60_000, produce); // a read that begins after the acknowledgement
    release.open();
    await leader;
    const result = await follower;
    expect(result.collapsed ? result.entry.body : result.value).toBe('new');
  });

  it('runs the producer once for concurrent fills of one key; followers get the entry', async () => {
    const { service, clock } = setup();
    let runs = 0;
    const release = gate();
    const produce = async () => {
      runs++;
      await release.promise;
      return { value: 'v', entry: draft('v', clock) };
    };
    const all = Array.from({ length: 50 }, () => service.fill('k', [], 60_000, produce));
    release.open();
    const results = await Promise.all(all);
    expect(runs).toBe(1);
    expect(results.filter((r) => r.collapsed)).toHaveLength(49);
    expect(results.every((r) => (r.collapsed ? r.entry.body : r.value) === 'v')).toBe(true);
  });

  it('never coalesces different keys', async () => {
    const { service, clock } = setup();
    let runs = 0;
    const produce = async () => {
      runs++;
      return { value: 'v', entry: draft('v', clock) };
    };
    await Promise.all([service.fill('k|u:alice', [], 1000, produce), service.fill('k|u:bob', [], 1000, produce)]);
    expect(runs).toBe(2);
  });

  it('followers run their own producer when the leader produced nothing storable', async () => {
    const { service } = setup();
    let runs = 0;
    const release = gate();
    const produce = async () => {
      runs++;
      await release.promise;
      return { value: `response ${runs}` };
    };
    const all = [service.fill('k', [], 1000, produce), service.fill('k', [], 1000, produce)];
    release.open();
    const results = await Promise.all(all);
    expect(runs).toBe(2);
    expect(results.every((r) => !r.collapsed)).toBe(true);
  });

  it('followers run their own producer when the leader throws', async () => {
    const { service, clock } = setup();
    let runs = 0;
    const release = gate();
    const produce = async () => {
      runs++;
      await release.promise;
      if (runs === 1) throw new Error('boom');
      return { value: 'ok', entry: draft('ok', clock) };
    };
    const leader = service.fill('k', [], 1000, produce);
    const follower = service.fill('k', [], 1000, produce);
    release.open();
    await expect(leader).rejects.toThrow('boom');
    await expect(follower).resolves.toMatchObject({ collapsed: false, value: 'ok' });
  });
});

/** The public service over an engine of its own. */
function facade(store?: CacheStore) {
  const { service: engine, options, ...rest } = setup(store);
  return { ...rest, engine, service: new ResponseCacheService(engine, options) };
}

describe('ResponseCacheService: value API over the engine', () => {
  it('wrap caches a value for its TTL on the injected clock', async () => {
    const { service, engine, clock } = facade();
    let calls = 0;
    const load = () => ({ n: ++calls });
    expect(await service.wrap('k', load, { ttl: 10 })).toEqual({ n: 1 });
    await engine.settle();
    expect(await service.wrap('k', load, { ttl: 10 })).toEqual({ n: 1 });
    clock.advance(10_000);
    expect(await service.wrap('k', load, { ttl: 10 })).toEqual({ n: 2 });
  });

  it('get/set/delete/clear and invalidateTags', async () => {
    const { service, seen } = facade();
    expect(await service.set('a', { x: 1 }, { tags: ['t'] })).toBe(true);
    expect(await service.get('a')).toEqual({ x: 1 });
    await service.invalidateTags(['t']);
    expect(await service.get('a')).toBeUndefined();
    await service.set('b', [1, 2]);
    expect(await service.delete('b')).toBe(true);
    expect(await service.get('b')).toBeUndefined();
    await service.set('c', 'text');
    await service.clear();
    expect(await service.get('c')).toBeUndefined();
    expect(seen.filter((e) => e.type === 'invalidation').map((e) => e.reason)).toEqual(['tag', 'key', 'clear']);
  });

  it('rejects a TTL that is not a positive number of seconds', async () => {
    const { service } = facade();
    await expect(service.set('a', 1, { ttl: -1 })).rejects.toThrow(/seconds/);
  });
});

describe('CacheEngine: invalidations the store refused are retried', () => {
  it('replays a refused invalidation once the store is back, so the old entry is not served', async () => {
    const clock = new ManualClock();
    const memory = new MemoryCacheStore({ clock });
    let down = false;
    const flaky: CacheStore = Object.assign(Object.create(memory) as CacheStore, {
      invalidateTags: (tags: readonly string[]) => (down ? Promise.reject(new Error('down')) : memory.invalidateTags(tags)),
      delete: (key: string) => (down ? Promise.reject(new Error('down')) : memory.delete(key)),
    });
    const { service, engine } = facade(flaky);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await service.set('users', ['old'], { tags: ['users'] });
    await service.set('k', 'old');
    down = true;
    expect(await service.invalidateTags(['users'])).toBe(false);
    expect(await service.delete('k')).toBe(false);
    expect(engine.pendingInvalidations).toBe(2);
    await expect(engine.retryPending()).rejects.toThrow('down'); // still down: kept
    expect(engine.pendingInvalidations).toBe(2);
    down = false;
    expect(await engine.retryPending()).toBe(true);
    expect(engine.pendingInvalidations).toBe(0);
    expect(await service.get('users')).toBeUndefined();
    expect(await service.get('k')).toBeUndefined();
    await engine.onModuleDestroy();
  });
});

describe('CacheEngine: failures never reach the caller', () => {
  const broken: CacheStore = {
    name: 'broken',
    get: () => Promise.reject(new Error('down')),
    set: () => Promise.reject(new Error('down')),
    snapshot: () => Promise.reject(new Error('down')),
    invalidateTags: () => Promise.reject(new Error('down')),
    delete: () => Promise.reject(new Error('down')),
    clear: () => Promise.reject(new Error('down')),
    keys: () => Promise.reject(new Error('down')),
    stats: () => Promise.reject(new Error('down')),
    ping: () => Promise.reject(new Error('down')),
  };

  it('turns every store failure into a miss or a no-op, and reports it', async () => {
    const { service, engine, seen } = facade(broken);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    expect(await service.get('k')).toBeUndefined();
    expect(await service.set('k', 1)).toBe(false);
    expect(await service.wrap('k', () => 42)).toBe(42);
    expect(await service.invalidateTags(['t'])).toBe(false);
    expect(await service.delete('k')).toBe(false);
    expect(await service.clear()).toBe(false);
    const operations = seen.filter((e) => e.type === 'store-error').map((e) => e.operation);
    expect(operations).toEqual(expect.arrayContaining(['get', 'snapshot', 'invalidateTags', 'delete', 'clear']));
    await engine.onModuleDestroy();
  });
});
