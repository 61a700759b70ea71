import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './support/redis-harness';

/**
 * `npm start` as a new user runs it: the built demo prints the dashboard's URL and a usable admin
 * token (made for the run, printed once), and startup warming fills the entries that requests to
 * the printed host hit.
 */
const MAIN = join(__dirname, '..', 'dist', 'apps', 'demo', 'src', 'main.js');

describe('the demo started as npm start runs it', () => {
  let child: ChildProcess;
  let output = '';
  let base: string;

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first (npm test does)`);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DEMO_DB_LATENCY_MS: '0' };
    delete env.CACHE_ADMIN_TOKEN;
    child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo printed no admin token within 60 s:\n${output}`)), 60_000);
      const poll = setInterval(() => {
        if (!/Admin token.*: \S+\n/.test(output)) return;
        clearInterval(poll);
        clearTimeout(timer);
        resolve();
      }, 20);
    });
    base = `http://localhost:${port}`;
  }, 90_000);

  afterAll(async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  const token = () => /Admin token \(generated for this run; set CACHE_ADMIN_TOKEN to choose one\): (\S+)\n/.exec(output)?.[1] ?? '';

  it('prints the dashboard URL and an admin token that the admin API accepts, once', async () => {
    expect(output).toContain(`Dashboard: ${base}/admin/cache/dashboard\n`);
    expect(token()).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(output.split(token()).length - 1).toBe(1);
    expect((await fetch(`${base}/admin/cache/stats`, { headers: { authorization: `Bearer ${token()}` } })).status).toBe(200);
    expect((await fetch(`${base}/admin/cache/stats`)).status).toBe(401);
    expect((await fetch(`${base}/admin/cache/dashboard`)).status).toBe(200);
  });

  it('warms under the printed host: one entry per warmed route, and a client of that URL hits it', async () => {
    const keys = async () => {
      const response = await fetch(`${base}/admin/cache/keys?pattern=*`, { headers: { authorization: `Bearer ${token()}` } });
      return ((await response.json()) as { keys: string[] }).keys;
    };
    for (let i = 0; i < 200 && (await keys()).length < 3; i++) await new Promise((r) => setTimeout(r, 25));
    const warmed = await keys();
    expect(warmed).toHaveLength(3);
    for (const key of warmed) expect(key).toContain(`localhost:${new URL(base).port}/api/`);
    const response = await fetch(`${base}/api/users`);
    expect(response.headers.get('x-cache')).toBe('HIT');
    expect(output.split(token()).length - 1).toBe(1); // still printed once only
  });

  it('serves the contract routes from the embedded PostgreSQL (PGlite) when DATABASE_URL is unset', async () => {
    expect(output).toContain('database: embedded PostgreSQL (PGlite, in memory)');
    const call = async (method: string, path: string, body?: unknown, user?: string) => {
      const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
      if (user !== undefined) headers.authorization = `Bearer ${user}`;
      const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, json: text === '' ? undefined : JSON.parse(text), xCache: res.headers.get('x-cache') };
    };
    expect((await call('GET', '/api/users/2')).json.user.name).toBe('Alan Turing');
    expect((await call('PUT', '/api/users/2', { name: 'A. M. Turing' })).status).toBe(200);
    expect(await call('GET', '/api/users/2')).toMatchObject({ xCache: 'MISS', json: { user: { name: 'A. M. Turing' } } });
    expect((await call('POST', '/api/users', { name: 'Twin', email: 'ada@example.com' })).status).toBe(409);
    const post = await call('POST', '/api/posts', { title: 'New', body: 'Text', authorId: 1 });
    expect(post.status).toBe(201);
    expect((await call('GET', '/api/posts?authorId=1&limit=100')).json.total).toBe(11);
    expect((await call('DELETE', `/api/posts/${post.json.post.id}`)).status).toBe(204);
    expect((await call('GET', `/api/posts/${post.json.post.id}`)).status).toBe(404);
    expect((await call('GET', '/api/jobs', undefined, 'alice')).json.jobs).toHaveLength(2);
    expect((await call('PATCH', '/api/jobs/1/status', { status: 'done' }, 'alice')).json.job.status).toBe('done');
    const feed = await call('GET', '/api/feed');
    expect(feed.json.feed).toHaveLength(10);
    expect(feed.json.feed[0]).toMatchObject({ author: { id: 1, name: 'Ada Lovelace' } });
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^demo_db_query_duration_seconds_count\{operation="feed"\} 1$/m);
  });
});
