import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { promisify } from 'node:util';
import { RedisProcess } from '../support/redis-harness';
import { InstalledFixture, LIBRARY_DIR, RunningFixture, installFixture, packLibrary } from './packed-fixture';

/**
 * The package as users get it: `npm pack` of libs/response-cache, installed into copies of small
 * apps outside the workspace, built with their own tsc and started with node.
 */
const OPTIONAL_PEERS = ['ioredis', '@nestjs/terminus', '@willsoto/nestjs-prometheus', 'prom-client'];

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** MISS, HIT, 304 on If-None-Match, and a MISS with the new data after the POST that invalidates. */
async function cachesAndInvalidates(app: RunningFixture): Promise<void> {
  const first = await get(`${app.url}/items`);
  expect(first.status).toBe(200);
  expect(first.headers.get('x-cache')).toBe('MISS');
  const second = await get(`${app.url}/items`);
  expect(second.headers.get('x-cache')).toBe('HIT');
  expect(second.text).toBe(first.text);
  const etag = second.headers.get('etag');
  expect(etag).toMatch(/^W\/".+"$/);
  const revalidated = await get(`${app.url}/items`, { 'if-none-match': etag ?? '' });
  expect(revalidated.status).toBe(304);
  expect(revalidated.text).toBe('');
  const posted = await fetch(`${app.url}/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'second' }),
  });
  expect(posted.status).toBe(201);
  const after = await get(`${app.url}/items`);
  expect(after.headers.get('x-cache')).toBe('MISS');
  expect(JSON.parse(after.text)).toMatchObject({ items: ['first', 'second'] });
}

async function loadedPackages(app: RunningFixture): Promise<string[]> {
  const { tracked, packages } = JSON.parse((await get(`${app.url}/loaded`)).text) as { tracked: boolean; packages: string[] };
  expect(tracked).toBe(true); // the load tracker works on this Node (module.registerHooks)
  return packages;
}

describe(`the packed nestjs-response-cache in apps outside the workspace (Node ${process.versions.node})`, () => {
  let packDir: string;
  const fixtures: Record<string, InstalledFixture> = {};
  let redis: RedisProcess;

  beforeAll(async () => {
    const packed = await packLibrary();
    packDir = packed.dir;
    const names = ['cjs-app', 'esm-app', 'redis-app'];
    const installed = await Promise.all(names.map((name) => installFixture(name, packed.tarball)));
    names.forEach((name, i) => (fixtures[name] = installed[i]));
    redis = await RedisProcess.start();
  }, 300_000);

  afterAll(async () => {
    for (const fixture of Object.values(fixtures)) fixture.remove();
    rmSync(packDir, { recursive: true, force: true });
    await redis?.stop();
  });

  it('a CommonJS app (nest new: module nodenext, isolatedModules) with no optional peer installed caches, and loads none', async () => {
    const fixture = fixtures['cjs-app'];
    for (const peer of OPTIONAL_PEERS) expect(fixture.has(peer)).toBe(false);
    const app = await fixture.start();
    try {
      await cachesAndInvalidates(app);
      const packages = await loadedPackages(app);
      expect(packages).toEqual(expect.arrayContaining(['nestjs-response-cache', 'lru-cache', '@nestjs/core']));
      for (const peer of OPTIONAL_PEERS) expect(packages).not.toContain(peer);
    } finally {
      await app.stop();
    }
    // The CLI is the package's bin: what `npx nestjs-response-cache` runs where the package is installed.
    const { stdout } = await promisify(execFile)(join(fixture.dir, 'node_modules', '.bin', 'nestjs-response-cache'), ['--help']);
    expect(stdout).toMatch(/^Usage: nestjs-response-cache <command>/);
  });

  it("a custom store in the app passes the store contract of the installed package's /testing subpath, under node:test", async () => {
    const fixture = fixtures['cjs-app'];
    const contract = join(fixture.dir, 'dist', 'counting.store.contract.js');
    const { stdout } = await promisify(execFile)(process.execPath, ['--test', '--test-reporter=tap', contract], { cwd: fixture.dir });
    expect(stdout).toMatch(/CacheStore contract: counting/);
    expect(stdout).toMatch(/^# pass [1-9]\d*$/m);
    expect(stdout).toMatch(/^# fail 0$/m);
  });

  it('importing a subpath whose optional peer is not installed names the subpath, the peer and the npm i command', async () => {
    const fixture = fixtures['cjs-app']; // none of the optional peers installed
    const load = (code: string, ...flags: string[]) =>
      promisify(execFile)(process.execPath, [...flags, '-e', code], { cwd: fixture.dir }).then(
        () => '',
        (error: { stderr: string }) => error.stderr,
      );
    const expected: [string, string][] = [
      ['redis', 'ioredis: npm i ioredis'],
      ['terminus', '@nestjs/terminus: npm i @nestjs/terminus'],
      ['prometheus', '@willsoto/nestjs-prometheus and prom-client: npm i @willsoto/nestjs-prometheus prom-client'],
    ];
    for (const [subpath, needs] of expected) {
      const stderr = await load(`require('nestjs-response-cache/${subpath}')`);
      expect(stderr).toContain(`ResponseCacheError: nestjs-response-cache/${subpath} needs ${needs} `);
      expect(stderr).not.toContain('Cannot find module');
    }
    const esm = await load("await import('nestjs-response-cache/redis')", '--input-type=module');
    expect(esm).toContain('nestjs-response-cache/redis needs ioredis: npm i ioredis');
  });

  it('an ES module app ("type": "module") imports it by name and caches', async () => {
    const app = await fixtures['esm-app'].start();
    try {
      await cachesAndInvalidates(app);
      const packages = await loadedPackages(app);
      expect(packages).toContain('nestjs-response-cache');
      for (const peer of OPTIONAL_PEERS) expect(packages).not.toContain(peer);
    } finally {
      await app.stop();
    }
  });

  it('an app with the Redis store from nestjs-response-cache/redis caches in a real redis-server, loading only ioredis of the peers', async () => {
    const app = await fixtures['redis-app'].start({ REDIS_URL: redis.url, CACHE_KEY_PREFIX: 'fixture:' });
    try {
      await cachesAndInvalidates(app);
      const client = new Redis(redis.url);
      try {
        expect((await client.keys('fixture:*')).length).toBeGreaterThan(0);
      } finally {
        client.disconnect();
      }
      const packages = await loadedPackages(app);
      expect(packages).toContain('ioredis');
      for (const peer of OPTIONAL_PEERS.filter((p) => p !== 'ioredis')) expect(packages).not.toContain(peer);
    } finally {
      await app.stop();
    }
  });

  it('npm pack lists only built files of current sources, the bin, README, LICENSE, CHANGELOG and package.json', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: LIBRARY_DIR });
    const [{ files }] = JSON.parse(stdout) as { files: { path: string }[] }[];
    const paths = files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts']),
    );
    for (const path of paths) {
      expect(path).toMatch(/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|bin\/nestjs-response-cache\.js|dist\/.+\.(js|d\.ts))$/);
      expect(path).not.toMatch(/\.spec\./);
      // A file left in dist/ by a build of a source that no longer exists must not ship.
      const source = path.replace(/^dist\//, 'src/').replace(/(\.d\.ts|\.js)$/, '.ts');
      if (path.startsWith('dist/')) expect([path, existsSync(join(LIBRARY_DIR, source))]).toEqual([path, true]);
    }
    // The package's LICENSE is the project's.
    expect(readFileSync(join(LIBRARY_DIR, 'LICENSE'), 'utf8')).toBe(readFileSync(join(LIBRARY_DIR, '..', '..', 'LICENSE'), 'utf8'));
  });
});
