import { DemoProcess } from '../../check/consistency/demo-process';
import { freshDatabaseUrl } from '../support/postgres';
import { RedisProcess } from '../support/redis-harness';
import { uniquePrefix } from '../support/redis-stores';

type Store = 'redis' | 'tiered';
type RunningDemo = DemoProcess;

/**
 * Two demo processes (Fastify and Express) on one Redis and one PostgreSQL database, as real
 * instances run: they share nothing else. Many more operations, with Redis paused and killed, are
 * checked by test/consistency.e2e-spec.ts (npm run check:consistency).
 */
async function twoInstances(redis: RedisProcess, store: Store): Promise<[RunningDemo, RunningDemo]> {
  const env = { CACHE_STORE: store, REDIS_URL: redis.url, CACHE_KEY_PREFIX: uniquePrefix(), DATABASE_URL: await freshDatabaseUrl() };
  const a = await DemoProcess.start({ ...env, HTTP_ADAPTER: 'fastify' });
  const b = await DemoProcess.start({ ...env, HTTP_ADAPTER: 'express' }).catch(async (error: unknown) => {
    await a.stop();
    throw error;
  });
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
      await Promise.all([a.stop(), b.stop()]);
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
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
