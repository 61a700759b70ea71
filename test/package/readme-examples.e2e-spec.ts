import { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisClusterProcesses, RedisProcess } from '../support/redis-harness';
import { eventually } from '../support/redis-stores';
import { README_EXAMPLES, readmeExample } from './readme-example';

/**
 * Every store registration in README.md is one of the files under examples/, word for word, and
 * each of them boots as the AppModule of a `nest new` app and caches (against real Redis processes).
 */
const EXAMPLES = README_EXAMPLES;

async function boot(module: Type): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(module, { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

async function xCache(url: string, init?: RequestInit): Promise<string | null> {
  const response = await fetch(url, init);
  await response.text();
  return response.headers.get('x-cache');
}

describe('README store registrations', () => {
  let redis: RedisProcess;
  let cluster: RedisClusterProcesses;

  beforeAll(async () => {
    [redis, cluster] = await Promise.all([RedisProcess.start(), RedisClusterProcesses.start()]);
    process.env.REDIS_URL = redis.url;
    process.env.REDIS_CLUSTER_NODES = cluster.seeds.map((s) => `${s.host}:${s.port}`).join(',');
  }, 60_000);

  afterAll(async () => {
    delete process.env.REDIS_URL;
    delete process.env.REDIS_CLUSTER_NODES;
    await Promise.all([redis?.stop(), cluster?.stop()]);
  });

  it.each(EXAMPLES)('the %s example in README.md is its file under examples/, word for word', (name) => {
    const file = readFileSync(join(__dirname, 'examples', `${name}.app.module.ts`), 'utf8');
    expect(readmeExample(name)).toBe(file);
  });

  it.each(EXAMPLES)('the %s example boots and caches: MISS, HIT, and a MISS after the write', async (name) => {
    const { AppModule } = (await import(`./examples/${name}.app.module`)) as { AppModule: Type };
    const { app, url } = await boot(AppModule);
    try {
      expect(await xCache(url)).toBe('MISS');
      // The fill is written after the response leaves (on Cluster, in a few round trips).
      await eventually(async () => (await xCache(url)) === 'HIT', 'the first hit');
      expect((await fetch(url, { method: 'POST' })).status).toBe(201);
      expect(await xCache(url)).toBe('MISS');
    } finally {
      await app.close();
    }
  });
});
