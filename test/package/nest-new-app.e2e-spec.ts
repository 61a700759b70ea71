import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { RedisClusterProcesses, RedisProcess } from '../support/redis-harness';
import { eventually } from '../support/redis-stores';
import { NEST_CLI_VERSION, NestNewApp, nestNewApp } from './nest-new';
import { packLibrary } from './packed-fixture';
import { README_EXAMPLES, readmeExample } from './readme-example';

async function xCache(url: string, init?: RequestInit): Promise<string | null> {
  const response = await fetch(url, init);
  await response.text();
  return response.headers.get('x-cache');
}

/**
 * An app made the way a user makes one today: `nest new` of @nestjs/cli (an ES module app), the
 * packed package installed with npm, and each `app.module.ts` of README.md pasted in verbatim,
 * built with the app's own `npm run build` and started with node; the app's own tests still pass.
 */
describe(`the README's examples in a nest new app (@nestjs/cli ${NEST_CLI_VERSION}, Node ${process.versions.node})`, () => {
  let packDir: string;
  let app: NestNewApp;
  let redis: RedisProcess;
  let cluster: RedisClusterProcesses;

  beforeAll(async () => {
    const packed = await packLibrary();
    packDir = packed.dir;
    [app, redis, cluster] = await Promise.all([
      nestNewApp(packed.tarball, join(__dirname, 'fixtures', 'nest-new', 'app.controller.ts')),
      RedisProcess.start(),
      RedisClusterProcesses.start(),
    ]);
  }, 300_000);

  afterAll(async () => {
    app?.remove();
    if (packDir !== undefined) rmSync(packDir, { recursive: true, force: true });
    await Promise.all([redis?.stop(), cluster?.stop()]);
  });

  it.each(README_EXAMPLES)('the %s example, pasted verbatim, builds and caches: MISS, HIT, and a MISS after the write', async (name) => {
    const code = readmeExample(name);
    expect(code).toMatch(/export class AppModule/);
    await app.build(code ?? '');
    const running = await app.start({
      REDIS_URL: redis.url,
      REDIS_CLUSTER_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(','),
    });
    try {
      const url = `${running.url}/`;
      expect(await xCache(url)).toBe('MISS');
      // The fill is written after the response leaves (on Cluster, in a few round trips).
      await eventually(async () => (await xCache(url)) === 'HIT', 'the first hit');
      expect((await fetch(url, { method: 'POST' })).status).toBe(201);
      expect(await xCache(url)).toBe('MISS');
    } finally {
      await running.stop();
    }
  });

  it.each(README_EXAMPLES)('the %s example also compiles in a CommonJS nodenext app', async (name) => {
    await expect(app.checkAsCommonJs(readmeExample(name) ?? '')).resolves.toBeUndefined();
  });

  it("the app's own tests (npm test, npm run test:e2e) pass with the memory example", async () => {
    await app.build(readmeExample('memory') ?? '');
    await expect(app.npm(['test'])).resolves.toBeDefined();
    await expect(app.npm(['run', 'test:e2e'])).resolves.toBeDefined();
  });
});
