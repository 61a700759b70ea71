import { ManualClock } from '../clock';
import { CacheStore } from './cache-store';
import { MemoryCacheStore } from './memory.store';
import { CircuitOpenError, ResilientCacheStore, StoreTimeoutError } from './resilient.store';

/** A store of our own whose ping can be made to fail or to hang. */
function controllable() {
  const memory = new MemoryCacheStore();
  let mode: 'ok' | 'fail' | 'hang' = 'ok';
  let calls = 0;
  const store: CacheStore = Object.assign(Object.create(memory) as CacheStore, {
    ping: () => {
      calls++;
      if (mode === 'fail') return Promise.reject(new Error('connection refused'));
      if (mode === 'hang') return new Promise<void>(() => undefined);
      return Promise.resolve();
    },
  });
  return { store, set: (m: typeof mode) => (mode = m), calls: () => calls };
}

describe('ResilientCacheStore', () => {
  it('does not count failures from before the first connection toward the breaker', async () => {
    const { store, set } = controllable();
    let connect!: () => void;
    const connecting = new Promise<void>((resolve) => (connect = resolve));
    const resilient = new ResilientCacheStore(Object.assign(store, { ready: () => connecting }), { failureThreshold: 3 });
    set('fail');
    for (let i = 0; i < 10; i++) await expect(resilient.ping()).rejects.toThrow('connection refused');
    expect(resilient.circuit).toBe('closed');
    connect();
    await connecting;
    for (let i = 0; i < 3; i++) await expect(resilient.ping()).rejects.toThrow('connection refused');
    expect(resilient.circuit).toBe('open');
  });

  it('bounds a hung operation by the timeout', async () => {
    const { store, set } = controllable();
    set('hang');
    const resilient = new ResilientCacheStore(store, { timeoutMs: 20 });
    await expect(resilient.ping()).rejects.toBeInstanceOf(StoreTimeoutError);
  });

  it('opens after the failure threshold, fails fast, then lets one probe through after the cool-down', async () => {
    const clock = new ManualClock();
    const { store, set, calls } = controllable();
    const resilient = new ResilientCacheStore(store, { failureThreshold: 3, cooldownMs: 5000, clock });
    set('fail');
    for (let i = 0; i < 3; i++) await expect(resilient.ping()).rejects.toThrow('connection refused');
    expect(resilient.circuit).toBe('open');
    await expect(resilient.ping()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(calls()).toBe(3); // the open circuit did not touch the store

    clock.advance(5000);
    expect(resilient.circuit).toBe('half-open');
    await expect(resilient.ping()).rejects.toThrow('connection refused'); // the probe fails
    expect(resilient.circuit).toBe('open');
    expect(calls()).toBe(4);

    clock.advance(5000);
    set('ok');
    await expect(resilient.ping()).resolves.toBeUndefined(); // the probe succeeds
    expect(resilient.circuit).toBe('closed');
  });

  it('still tries invalidations while the circuit is open (another instance may be reading again), and one that lands closes it', async () => {
    const clock = new ManualClock();
    const { store, set } = controllable();
    const invalidated: string[][] = [];
    let refuse = true;
    Object.assign(store, {
      invalidateTags: (tags: string[]) => (refuse ? Promise.reject(new Error('refused')) : (invalidated.push(tags), Promise.resolve())),
    });
    const resilient = new ResilientCacheStore(store, { failureThreshold: 2, cooldownMs: 5000, clock });
    set('fail');
    for (let i = 0; i < 2; i++) await expect(resilient.ping()).rejects.toThrow('connection refused');
    expect(resilient.circuit).toBe('open');
    await expect(resilient.get('k')).rejects.toBeInstanceOf(CircuitOpenError); // reads are skipped
    await expect(resilient.invalidateTags(['users'])).rejects.toThrow('refused'); // tried, and refused
    refuse = false;
    await expect(resilient.invalidateTags(['users'])).resolves.toBeUndefined(); // tried, and landed
    expect(invalidated).toEqual([['users']]);
    expect(resilient.circuit).toBe('closed');
  });

  it('lets only one probe through while half-open', async () => {
    const clock = new ManualClock();
    const { store, set } = controllable();
    const resilient = new ResilientCacheStore(store, { failureThreshold: 1, cooldownMs: 1000, timeoutMs: 50, clock });
    set('fail');
    await expect(resilient.ping()).rejects.toThrow();
    clock.advance(1000);
    set('hang');
    const probe = resilient.ping();
    await expect(resilient.ping()).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(probe).rejects.toBeInstanceOf(StoreTimeoutError);
  });

  it('resets the failure count after a success', async () => {
    const { store, set } = controllable();
    const resilient = new ResilientCacheStore(store, { failureThreshold: 2 });
    set('fail');
    await expect(resilient.ping()).rejects.toThrow();
    set('ok');
    await resilient.ping();
    set('fail');
    await expect(resilient.ping()).rejects.toThrow();
    expect(resilient.circuit).toBe('closed');
  });
});
