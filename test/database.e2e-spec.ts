import { Logger } from '@nestjs/common';
import { createDemoApp } from '../apps/demo/src/create-demo-app';
import { httpErrorOf } from '../apps/demo/src/data/sql-errors';
import { ADAPTERS, RunningDemo, startDemo } from './support/demo-app';

/** The demo's data layer on PostgreSQL: constraints as client errors, cascades with their invalidations, the feed, the histogram. */
describe.each(ADAPTERS)('the demo on PostgreSQL on %s', (adapter) => {
  let demo: RunningDemo;
  const call = async (method: string, path: string, body?: unknown, user?: string) => {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (user !== undefined) headers.authorization = `Bearer ${user}`;
    const res = await fetch(`${demo.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, json: text === '' ? undefined : JSON.parse(text), xCache: res.headers.get('x-cache') };
  };
  beforeEach(async () => {
    demo = await startDemo(adapter);
  });
  afterEach(async () => {
    await demo.close();
  });

  it('a duplicate email is 409 with a message, and invalidates nothing', async () => {
    await call('GET', '/api/users');
    const twin = await call('POST', '/api/users', { name: 'Twin', email: 'ada@example.com' });
    expect([twin.status, twin.json.message]).toEqual([409, 'a user with this email already exists']);
    expect((await call('PUT', '/api/users/2', { email: 'grace@example.com' })).status).toBe(409);
    expect((await call('GET', '/api/users')).xCache).toBe('HIT');
    expect((await demo.sql<{ n: number }>('SELECT count(*)::int AS n FROM users'))[0].n).toBe(3);
  });

  it('a post by a user who does not exist is 400, never 500', async () => {
    const orphan = await call('POST', '/api/posts', { title: 'T', body: 'B', authorId: 999 });
    expect([orphan.status, orphan.json.message]).toEqual([400, '"authorId" is not a user']);
    expect((await call('POST', '/api/posts', { title: 'T', body: 'B', authorId: 2_147_483_648 })).status).toBe(400);
  });

  it('a NUL character in a text field is 400 with a message naming the field, never 503 or an ERROR log', async () => {
    const errors = jest.spyOn(Logger.prototype, 'error');
    try {
      await call('GET', '/api/users');
      const nul = await call('POST', '/api/users', { name: 'a\u0000b', email: 'nul@example.com' });
      expect([nul.status, nul.json.message]).toEqual([400, '"name" must not contain the NUL character (\\u0000)']);
      expect((await call('PUT', '/api/users/1', { email: 'x\u0000@example.com' })).json.message).toMatch(/^"email" must not/);
      expect((await call('POST', '/api/posts', { title: 'T', body: '\u0000', authorId: 1 })).status).toBe(400);
      expect((await call('PUT', '/api/posts/1', { title: 'T\u0000' })).status).toBe(400);
      expect((await call('GET', '/api/users')).xCache).toBe('HIT'); // nothing was written, nothing invalidated
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
    }
  });

  it("PostgreSQL data exceptions (SQLSTATE class 22) and constraint violations (23) are the client's: 400 with a message", async () => {
    // What the server itself answers when a value slips past the demo's checks.
    const nul = await demo.sql('SELECT $1::text AS t', ['a\u0000b']).catch((error: unknown) => error);
    expect(nul).toMatchObject({ code: '22021' });
    const overflow = await demo.sql('SELECT $1::integer AS n', ['99999999999']).catch((error: unknown) => error);
    expect(overflow).toMatchObject({ code: '22003' });
    const badDate = await demo.sql("SELECT '2024-02-30'::date AS d").catch((error: unknown) => error);
    expect(badDate).toMatchObject({ code: '22008' }); // datetime_field_overflow: a class 22 code with no case of its own
    const check = await demo
      .sql("INSERT INTO jobs (owner, name, status, updated_at) VALUES ('ada', 'n', 'lost', now())")
      .catch((error: unknown) => error);
    expect(check).toMatchObject({ code: '23514' }); // check_violation
    for (const error of [nul, overflow, badDate, check]) {
      const http = httpErrorOf(error);
      expect([http.getStatus(), http.message]).toEqual([400, expect.any(String)]);
      expect(http.message).not.toMatch(/unavailable/);
    }
    expect(httpErrorOf(nul).message).toContain('NUL');
    expect(httpErrorOf(badDate).message).toBe('the body holds a value the database cannot store (SQLSTATE 22008)');
    expect(httpErrorOf({ code: '08006' }).getStatus()).toBe(503); // connection failure: the database's
  });

  it('deleting a user deletes their posts and invalidates the posts routes that showed them', async () => {
    expect((await call('GET', '/api/posts?authorId=1')).json.total).toBe(10);
    expect((await call('GET', '/api/posts/1')).status).toBe(200);
    expect((await call('DELETE', '/api/users/1')).status).toBe(204);
    expect(await call('GET', '/api/posts?authorId=1')).toMatchObject({ xCache: 'MISS', json: { total: 0 } });
    expect((await call('GET', '/api/posts/1')).status).toBe(404);
  });

  it('the feed ranks posts by comments, with their authors, and follows writes to either', async () => {
    const feed = await call('GET', '/api/feed?limit=3');
    expect(feed.json.limit).toBe(3);
    const counts = feed.json.feed.map((item: { comments: number }) => item.comments);
    expect(counts).toEqual([...counts].sort((a: number, b: number) => b - a));
    const [top] = feed.json.feed;
    const [expected] = await demo.sql<{ id: number; n: number }>(
      'SELECT post_id AS id, count(*)::int AS n FROM comments GROUP BY post_id ORDER BY n DESC, post_id LIMIT 1',
    );
    expect(top).toMatchObject({ id: expected.id, comments: expected.n });
    expect((await call('GET', '/api/feed?limit=3')).xCache).toBe('HIT');
    await call('PUT', `/api/users/${top.author.id}`, { name: 'Renamed' });
    const renamed = await call('GET', '/api/feed?limit=3');
    expect([renamed.xCache, renamed.json.feed[0].author.name]).toEqual(['MISS', 'Renamed']);
    await call('PUT', `/api/posts/${top.id}`, { title: 'Retitled' });
    const retitled = await call('GET', '/api/feed?limit=3');
    expect([retitled.xCache, retitled.json.feed[0].title]).toEqual(['MISS', 'Retitled']);
    expect((await call('GET', '/api/feed?limit=0')).status).toBe(400);
    expect((await call('GET', '/api/feed?limit=abc')).status).toBe(400);
  });

  it('counts and times every statement in /metrics', async () => {
    await call('GET', '/api/users/2');
    await call('GET', '/api/users/2'); // a hit: no statement
    const metrics = await (await fetch(`${demo.url}/metrics`)).text();
    expect(metrics).toMatch(/^demo_db_queries_total\{operation="getUser"\} 1$/m);
    expect(metrics).toMatch(/^demo_db_query_duration_seconds_count\{operation="getUser"\} 1$/m);
    expect(metrics).toMatch(/^demo_db_query_duration_seconds_bucket\{le="1",operation="getUser"\} 1$/m);
  });

  // The demo's own checks of bodies, ids, paging and job ownership (no cache behaviour; from invalidation.e2e-spec.ts).
  it('invalid bodies and ids get 400 with a message', async () => {
    const bad = await call('POST', '/api/users', { name: 'X', email: 'not-an-email' });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/email/);
    expect((await call('GET', '/api/users/abc')).status).toBe(400);
    expect((await call('PUT', '/api/users/1', [1, 2])).status).toBe(400);
  });

  it('validates paging and bodies', async () => {
    expect((await call('GET', '/api/posts?limit=1000')).status).toBe(400);
    expect((await call('GET', '/api/posts?page=0')).status).toBe(400);
    expect((await call('POST', '/api/posts', { title: 'T', body: 'B', authorId: 999 })).status).toBe(400);
    const page = await call('GET', '/api/posts?page=2&limit=5&authorId=1');
    expect(page.json).toMatchObject({ page: 2, limit: 5, total: 10 });
    expect(page.json.posts.every((p: { authorId: number }) => p.authorId === 1)).toBe(true);
  });

  it("bob cannot change alice's job, and a bad status is a 400", async () => {
    expect((await call('PATCH', '/api/jobs/1/status', { status: 'done' }, 'bob')).status).toBe(404);
    expect((await call('PATCH', '/api/jobs/1/status', { status: 'exploded' }, 'alice')).status).toBe(400);
  });
});

describe('a database the demo cannot use', () => {
  it('stops the startup with a message that names DATABASE_URL and hides its password', async () => {
    const attempt = createDemoApp({
      logger: false,
      processMetrics: false,
      env: { DATABASE_URL: 'postgres://demo:s3cret@127.0.0.1:1/demo', CACHE_WARM_PATHS: '' },
    });
    await expect(attempt).rejects.toThrow(
      /cannot connect to the PostgreSQL server of DATABASE_URL \(postgres:\/\/demo:\*\*\*@127\.0\.0\.1:1\/demo\)/,
    );
    await expect(attempt).rejects.not.toThrow(/s3cret/);
  });

  it('a database where the tables cannot be created stops the startup with the reason', async () => {
    const url = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
    url.searchParams.set('options', '-c search_path=no_such_schema');
    const attempt = createDemoApp({ logger: false, processMetrics: false, env: { DATABASE_URL: url.toString(), CACHE_WARM_PATHS: '' } });
    await expect(attempt).rejects.toThrow(
      /could not create the demo's tables in the PostgreSQL server of DATABASE_URL: no schema has been selected/,
    );
  });
});
