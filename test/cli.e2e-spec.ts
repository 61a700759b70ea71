import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from 'nestjs-response-cache/internal/cli/response-cache-cli';
import { freePort } from './support/redis-harness';
import { RunningDemo, rawRequest, startDemo, xCacheOf } from './support/demo-app';

const TOKEN = 'cli-admin-token';

describe('the nestjs-response-cache CLI against a running demo', () => {
  let demo: RunningDemo;
  const cli = async (args: string[], env: Record<string, string | undefined> = {}) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, env, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  };
  const withDemo = (...args: string[]) => cli([...args, '--url', demo.url, '--token', TOKEN]);
  const xCache = (path: string) => xCacheOf(demo, path);

  beforeEach(async () => {
    demo = await startDemo('fastify', { CACHE_ADMIN_TOKEN: TOKEN });
  });
  afterEach(async () => {
    await demo.close();
  });

  it('stats: human-readable, or the API JSON with --json', async () => {
    await xCache('/api/users');
    await xCache('/api/users');
    await xCache('/api/users');
    const human = await withDemo('stats');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^hit ratio\s+66\.7% \(2 hits, 1 misses\)$/m);
    expect(human.stdout).toMatch(/^store\s+memory, healthy/m);
    expect(human.stdout).toMatch(/^\/api\/users\s+2\s+1\s+66\.7%$/m);
    const json = await withDemo('stats', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ hits: 2, misses: 1, hitRatio: 0.6667, store: { type: 'memory' } });
  });

  it('takes the URL and token from RESPONSE_CACHE_URL and CACHE_ADMIN_TOKEN', async () => {
    const result = await cli(['stats', '--json'], { RESPONSE_CACHE_URL: demo.url, CACHE_ADMIN_TOKEN: TOKEN });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toHaveProperty('hitRatio');
  });

  it('keys: by pattern, one page with a cursor hint, or every page with --all', async () => {
    for (const id of [1, 2, 3]) await xCache(`/api/users/${id}`);
    await xCache('/api/posts/1');
    const one = await withDemo('keys', '*/api/users/*', '--limit', '1');
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/\/api\/users\/\d/);
    const all = await withDemo('keys', '*/api/users/*', '--limit', '1', '--all', '--json');
    const keys = (JSON.parse(all.stdout) as { keys: string[] }).keys;
    expect(keys.sort()).toEqual([1, 2, 3].map((id) => expect.stringContaining(`/api/users/${id}`) as unknown));
  });

  it('invalidate: tags (positional or --tag) and keys; the next request misses', async () => {
    await xCache('/api/users');
    await xCache('/api/posts');
    const result = await withDemo('invalidate', 'users');
    expect(result).toMatchObject({ code: 0, stdout: 'invalidated: 1 tag, 0 keys deleted\n' });
    expect(await xCache('/api/users')).toBe('MISS');
    expect(await xCache('/api/posts')).toBe('HIT');
    const flags = await withDemo('invalidate', '--tag', 'posts', '--key', 'GET nothing/here');
    expect(flags).toMatchObject({ code: 0, stdout: 'invalidated: 1 tag, 0 keys deleted\n' });
    expect(await xCache('/api/posts')).toBe('MISS');
    const none = await withDemo('invalidate');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('name something to invalidate');
  });

  it('clear: refuses without --yes (nothing cleared), clears with it', async () => {
    await xCache('/api/users');
    const refused = await withDemo('clear');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(await xCache('/api/users')).toBe('HIT');
    expect(await withDemo('clear', '--yes')).toMatchObject({ code: 0, stdout: 'cleared\n' });
    expect(await xCache('/api/users')).toBe('MISS');
  });

  it('warm: warms the given paths and prints status and X-Cache per path; a failed path exits 1', async () => {
    const result = await withDemo('warm', '/api/users', '/api/version');
    expect(result.code).toBe(0);
    const host = new URL(demo.url).host;
    expect(result.stdout).toMatch(new RegExp(`^/api/users\\s+${host.replace(/\./g, '\\.')}\\s+200\\s+MISS`, 'm'));
    // Warmed under the host of --url (the CLI's requests carry it): a client of that URL hits.
    const res = await fetch(`${demo.url}/api/users`);
    await res.arrayBuffer();
    expect(res.headers.get('x-cache')).toBe('HIT');
    const named = await withDemo('warm', '/api/users/1', '--host', 'api.test');
    expect(named.stdout).toMatch(/^\/api\/users\/1\s+api\.test\s+200\s+MISS/m);
    const viaNamedHost = await rawRequest(demo.url, { path: '/api/users/1', headers: { host: 'api.test' } });
    expect(viaNamedHost.headers['x-cache']).toBe('HIT');
    const failed = await withDemo('warm', '/api/users/99999');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('1 of 1 paths failed');
  });

  it('fails clearly with a wrong token, an unreachable server, a bad command line', async () => {
    const wrong = await cli(['stats', '--url', demo.url, '--token', 'wrong']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/admin token was refused \(401\)/);
    const port = await freePort();
    const unreachable = await cli(['stats', '--url', `http://127.0.0.1:${port}`, '--token', TOKEN]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect((await cli(['stats', '--url', demo.url])).stderr).toContain('no admin token');
    expect((await withDemo('frobnicate')).code).toBe(2);
    expect((await withDemo('keys', '--limit', 'zero')).code).toBe(2);
    expect((await cli(['stats', '--bogus'])).code).toBe(2);
    expect((await cli(['stats', '--url', 'not a url', '--token', TOKEN])).code).toBe(2);
    expect(await cli(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: nestjs-response-cache') as unknown });
  });

  it('names an unknown command, the nearest one and the list, before asking for a token', async () => {
    const typo = await cli(['stat']); // no --url, no token
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^nestjs-response-cache: unknown command "stat" \(did you mean "stats"\?\)$/m);
    expect(typo.stderr).toMatch(/^commands: stats, keys, invalidate, clear, warm, edge /m);
    expect(typo.stderr).not.toContain('token');
    const far = await cli(['frobnicate']);
    expect(far.code).toBe(2);
    expect(far.stderr).toMatch(/unknown command "frobnicate"\ncommands: stats, keys/);
    expect(far.stderr).not.toContain('did you mean');
  });

  it('says that an app with no admin token configured has none, and how to give it one', async () => {
    const tokenless = await startDemo('express'); // adminRoutes on, CACHE_ADMIN_TOKEN unset
    try {
      const res = await fetch(`${tokenless.url}/admin/cache/stats`, { headers: { authorization: 'Bearer anything' } });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { message: string }).message).toContain('no admin token is configured');
      const result = await cli(['stats', '--url', tokenless.url, '--token', 'anything']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`the app at ${tokenless.url} has no admin token configured`);
      expect(result.stderr).toMatch(/adminToken in ResponseCacheModule\.forRoot; in the demo app, the CACHE_ADMIN_TOKEN variable/);
      expect(result.stderr).not.toContain('was refused');
    } finally {
      await tokenless.close();
    }
    // An app that has a token still says a wrong one was refused.
    expect((await cli(['stats', '--url', demo.url, '--token', 'wrong'])).stderr).toMatch(/admin token was refused \(401\)/);
  });

  it('runs as the package bin (what npx nestjs-response-cache runs)', async () => {
    await xCache('/api/users');
    const bin = join(__dirname, '..', 'node_modules', '.bin', 'nestjs-response-cache');
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'stats', '--json'], {
      env: { ...process.env, RESPONSE_CACHE_URL: demo.url, CACHE_ADMIN_TOKEN: TOKEN },
    });
    expect(JSON.parse(stdout)).toMatchObject({ misses: 1 });
    const failure = await promisify(execFile)(process.execPath, [bin, 'stats', '--url', demo.url, '--token', 'wrong']).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringContaining('401') as unknown });
  });
});
