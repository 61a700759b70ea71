import { ManualClock } from 'nestjs-response-cache';
import { DemoData } from '../../apps/demo/src/data/demo-database';
import { RunningDemo, startDemo } from '../support/demo-app';
import { RedisProcess } from '../support/redis-harness';
import { uniquePrefix } from '../support/redis-stores';

type Store = 'redis' | 'tiered';

/** Two demo instances on one Redis (and one shared database, as real instances would share). */
async function twoInstances(redis: RedisProcess, store: Store, latencyMs = 0): Promise<[RunningDemo, RunningDemo]> {
  const env = { CACHE_STORE: store, REDIS_URL: redis.url, CACHE_KEY_PREFIX: uniquePrefix(), DEMO_DB_LATENCY_MS: String(latencyMs) };
  const data = new DemoData();
  const clock = new ManualClock(Date.now());
  const a = await startDemo('fastify', env, undefined, clock, data);
  const b = await startDemo('express', env, undefined, clock, data);
  return [a, b];
}

async function readName(demo: RunningDemo): Promise<{ name: string; xCache: string | null }> {
  const res = await fetch(`${demo.url}/api/users/1`);
  const body = (await res.json()) as { user: { name: string } };
  return { name: body.user.name, xCache: res.headers.get('x-cache') };
}

async function write(demo: RunningDemo, name: string): Promise<void> {
  const res = await fetch(`${demo.url}/api/users/1`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 200) throw new Error(`write failed: ${res.status}`);
  await res.arrayBuffer();
}

async function warm(demo: RunningDemo): Promise<void> {
  for (let i = 0; i < 50 && (await readName(demo)).xCache !== 'HIT'; i++) await new Promise((r) => setTimeout(r, 20));
}

describe('several instances on one Redis', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await RedisProcess.start();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('redis store: after a write acknowledged by either instance, the other never returns the old data', async () => {
    const [a, b] = await twoInstances(redis, 'redis');
    try {
      for (let round = 0; round < 10; round++) {
        const [writer, reader] = round % 2 === 0 ? [a, b] : [b, a];
        await warm(reader);
        await write(writer, `name ${round}`);
        expect((await readName(reader)).name).toBe(`name ${round}`); // immediately
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('tiered store: the other instance drops its L1 copy once the invalidation message arrives', async () => {
    const [a, b] = await twoInstances(redis, 'tiered');
    try {
      for (let round = 0; round < 10; round++) {
        const [writer, reader] = round % 2 === 0 ? [a, b] : [b, a];
        await warm(reader); // the reader's L1 holds the entry
        await write(writer, `name ${round}`);
        const deadline = Date.now() + 2000;
        let seen = (await readName(reader)).name;
        while (seen !== `name ${round}` && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 1));
          seen = (await readName(reader)).name;
        }
        expect(seen).toBe(`name ${round}`);
        // Once it has arrived, never the old data again.
        for (let i = 0; i < 5; i++) expect((await readName(reader)).name).toBe(`name ${round}`);
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  /**
   * Writers and readers on both instances for a bounded number of operations, with 2 ms of
   * database latency so that slow fills race the invalidations. The checker flags any read
   * that returned data older than the last write acknowledged before the read began (for the
   * tiered store, acknowledged more than the bus allowance before it began).
   */
  it.each([
    ['redis', 0],
    ['tiered', 50],
  ] as const)('%s store: concurrent writers and readers never see data older than an acknowledged write', async (store, busAllowanceMs) => {
    const [a, b] = await twoInstances(redis, store as Store, 2);
    const acks: { version: number; at: number }[] = [];
    const reads: { version: number; started: number; instance: string }[] = [];
    try {
      let version = 0;
      const writer = async () => {
        for (let i = 0; i < 60; i++) {
          const v = ++version;
          await write(i % 2 === 0 ? a : b, `v${v}`);
          acks.push({ version: v, at: performance.now() });
        }
      };
      const reader = async (demo: RunningDemo, label: string) => {
        for (let i = 0; i < 150; i++) {
          const started = performance.now();
          const { name } = await readName(demo);
          reads.push({ version: name.startsWith('v') ? Number(name.slice(1)) : 0, started, instance: label });
        }
      };
      await Promise.all([writer(), reader(a, 'A'), reader(b, 'B'), reader(a, 'A'), reader(b, 'B')]);

      const violations = reads.filter((read) => {
        const acknowledged = acks.filter((ack) => ack.at < read.started - busAllowanceMs);
        const required = acknowledged.length === 0 ? 0 : Math.max(...acknowledged.map((ack) => ack.version));
        return read.version < required;
      });
      expect(reads.length).toBe(600);
      expect(violations).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
