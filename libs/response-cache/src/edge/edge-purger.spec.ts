import type { EdgeAdapter, EdgePurgeOptions } from './edge-adapter';
import { EdgePurgeError } from './edge-adapter';
import { EdgePurger } from './edge-purger';
import { resolveEdge } from '../options/edge-options';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An adapter that records its purges and answers as `behaviour` says. */
function fakeEdge(behaviour: (keys: readonly string[], options: EdgePurgeOptions) => Promise<void>, maxKeysPerPurge = 2) {
  const calls: string[][] = [];
  const adapter: EdgeAdapter = {
    name: 'fake',
    tagHeader: 'xkey',
    ttlHeader: 'CDN-Cache-Control',
    limits: { separator: ' ', maxHeaderBytes: 1000, maxKeys: 10 },
    maxKeysPerPurge,
    purge: (keys, options) => {
      calls.push([...keys]);
      return behaviour(keys, options);
    },
  };
  return { adapter, calls };
}

describe('EdgePurger', () => {
  let purger: EdgePurger | undefined;
  afterEach(() => purger?.stop());

  it('purges the surrogate keys in batches, never the internal tags, and counts each request', async () => {
    const { adapter, calls } = fakeEdge(async () => undefined);
    const results: string[] = [];
    purger = new EdgePurger(resolveEdge({ adapter, repurgeAfterMs: 0 }), (_, result) => results.push(result));
    await purger.purge(['users', 'user:1', 'posts', '\u0001uri:u:AAAAAAAAAAAAAAAAAAAAAA|/x']);
    expect(calls).toEqual([['users', 'user:1'], ['posts']]);
    expect(results).toEqual(['ok', 'ok']);
    expect(purger.status()?.pending).toBe(0);
  });

  it('answers within the purge timeout when the edge hangs, and retries in the background until it answers', async () => {
    let up = false;
    const { adapter, calls } = fakeEdge(
      (_, { signal }) =>
        up
          ? Promise.resolve()
          : new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new EdgePurgeError('aborted')))),
      10,
    );
    const results: string[] = [];
    purger = new EdgePurger(resolveEdge({ adapter, purgeTimeoutMs: 100, repurgeAfterMs: 0 }), (_, r) => results.push(r));
    const started = performance.now();
    await purger.purge(['users']);
    expect(performance.now() - started).toBeLessThan(1000); // the edge never answers: only the timeout ends it
    expect(results).toEqual(['timeout']);
    expect(purger.status()).toMatchObject({ pending: 1, pendingKeys: [{ key: 'users', attempts: 1 }] });
    up = true;
    expect(await purger.settle(3000)).toBe(true);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(results.at(-1)).toBe('ok');
    expect(purger.status()?.pending).toBe(0);
  });

  it('does not hold the caller even when the adapter ignores the abort signal', async () => {
    const { adapter } = fakeEdge(() => new Promise(() => undefined), 10);
    purger = new EdgePurger(resolveEdge({ adapter, purgeTimeoutMs: 50, repurgeAfterMs: 0 }));
    const started = performance.now();
    await purger.purge(['users']);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(purger.status()?.pending).toBe(1);
  });

  it('honours the retry-after of a refusal, and never throws', async () => {
    let refusals = 1;
    const { adapter, calls } = fakeEdge(async () => {
      if (refusals-- > 0) throw new EdgePurgeError('429', 1000);
    }, 10);
    purger = new EdgePurger(resolveEdge({ adapter, repurgeAfterMs: 0 }));
    await expect(purger.purge(['posts'])).resolves.toBeUndefined();
    await sleep(200);
    expect(calls).toHaveLength(1); // still waiting: the edge asked for 1 s
    expect(await purger.settle(4000)).toBe(true);
    expect(calls).toHaveLength(2);
  });

  it('sends every purge again after repurgeAfterMs (for responses in flight during the first)', async () => {
    const { adapter, calls } = fakeEdge(async () => undefined, 10);
    purger = new EdgePurger(resolveEdge({ adapter, repurgeAfterMs: 100 }));
    await purger.purge(['users']);
    expect(calls).toEqual([['users']]);
    expect(purger.status()?.scheduledRepurges).toBe(1);
    expect(await purger.settle(2000)).toBe(true);
    expect(calls).toEqual([['users'], ['users']]);
  });

  it('does nothing without an edge', async () => {
    purger = new EdgePurger(undefined);
    await purger.purge(['users']);
    expect(purger.status()).toBeUndefined();
  });
});
