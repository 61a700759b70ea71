import { ResponseCacheService } from 'nestjs-response-cache';
import { ADAPTERS } from './support/boot-app';
import { RunningFixture, dbQueries, startFixture } from './support/fixture-api';

describe.each(ADAPTERS)('invalidation and per-user isolation on %s', (adapter) => {
  let fixture: RunningFixture;
  const call = async (method: string, path: string, body?: unknown, user?: string) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (user !== undefined) headers.authorization = `Bearer ${user}`;
    const res = await fetch(`${fixture.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return {
      status: res.status,
      xCache: res.headers.get('x-cache'),
      headers: res.headers,
      json: text === '' ? undefined : JSON.parse(text),
    };
  };
  /** GETs twice; the second must be a HIT with the same body. Returns that body. */
  const warm = async (path: string, user?: string) => {
    await call('GET', path, undefined, user);
    const hit = await call('GET', path, undefined, user);
    expect(hit.xCache).toBe('HIT');
    return hit.json;
  };

  beforeEach(async () => {
    fixture = await startFixture(adapter);
  });
  afterEach(async () => {
    await fixture.close();
  });

  describe('users', () => {
    it('POST invalidates the list', async () => {
      await warm('/api/users');
      const created = await call('POST', '/api/users', { name: 'Edsger Dijkstra', email: 'ewd@example.com' });
      expect(created.status).toBe(201);
      const list = await call('GET', '/api/users');
      expect(list.xCache).toBe('MISS');
      expect(list.json.users).toContainEqual(created.json.user);
    });

    it('PUT invalidates the list and the item', async () => {
      await warm('/api/users');
      await warm('/api/users/2');
      await warm('/api/posts/3');
      const updated = await call('PUT', '/api/users/2', { email: 'turing@example.com' });
      expect(updated.status).toBe(200);
      const item = await call('GET', '/api/users/2');
      expect([item.xCache, item.json.user.email]).toEqual(['MISS', 'turing@example.com']);
      expect((await call('GET', '/api/users')).xCache).toBe('MISS');
      expect((await call('GET', '/api/posts/3')).xCache).toBe('HIT'); // other tags are untouched
    });

    it('DELETE invalidates the list and the item', async () => {
      await warm('/api/users/1');
      await warm('/api/users');
      expect((await call('DELETE', '/api/users/1')).status).toBe(204);
      expect((await call('GET', '/api/users/1')).status).toBe(404);
      expect((await call('GET', '/api/users')).json.users.map((u: { id: number }) => u.id)).not.toContain(1);
    });

    it('a failed mutation (400, 404) invalidates nothing', async () => {
      await warm('/api/users');
      expect((await call('POST', '/api/users', { name: 'No Email' })).status).toBe(400);
      expect((await call('PUT', '/api/users/999', { name: 'Ghost' })).status).toBe(404);
      expect((await call('GET', '/api/users')).xCache).toBe('HIT');
    });
  });

  describe('posts', () => {
    it('POST, PUT and DELETE invalidate posts and post:{id}', async () => {
      await warm('/api/posts?page=1&limit=5');
      await warm('/api/posts/1');
      const created = await call('POST', '/api/posts', { title: 'New', body: 'Text', authorId: 1 });
      expect(created.status).toBe(201);
      const list = await call('GET', '/api/posts?page=1&limit=5');
      expect([list.xCache, list.json.total]).toEqual(['MISS', 31]);
      expect((await call('GET', '/api/posts/1')).xCache).toBe('MISS'); // the posts tag covers items too

      await warm('/api/posts/1');
      await call('PUT', '/api/posts/1', { title: 'Edited' });
      const edited = await call('GET', '/api/posts/1');
      expect([edited.xCache, edited.json.post.title]).toEqual(['MISS', 'Edited']);

      await warm('/api/posts/1');
      await call('DELETE', '/api/posts/1');
      expect((await call('GET', '/api/posts/1')).status).toBe(404);
    });

    it('a page of the list is tagged with the posts on it (resultTags): invalidating one post drops only the pages that hold it', async () => {
      const page1 = await warm('/api/posts?page=1&limit=5');
      await warm('/api/posts?page=2&limit=5');
      const onPage1 = page1.posts[2].id as number;
      await fixture.app.get(ResponseCacheService).invalidateTags([`post:${onPage1}`]);
      expect((await call('GET', '/api/posts?page=1&limit=5')).xCache).toBe('MISS');
      expect((await call('GET', '/api/posts?page=2&limit=5')).xCache).toBe('HIT');
    });
  });

  describe('jobs, cached per user', () => {
    it('needs a bearer token', async () => {
      expect((await call('GET', '/api/jobs')).status).toBe(401);
      expect((await call('GET', '/api/jobs', undefined, 'not a valid user!')).status).toBe(401);
    });

    it("alice never sees bob's jobs, from the cache or otherwise", async () => {
      const alice = await warm('/api/jobs', 'alice');
      const bobMiss = await call('GET', '/api/jobs', undefined, 'bob');
      expect(bobMiss.xCache).toBe('MISS');
      const bob = await warm('/api/jobs', 'bob');
      expect(alice.jobs.every((j: { owner: string }) => j.owner === 'alice')).toBe(true);
      expect(bob.jobs.every((j: { owner: string }) => j.owner === 'bob')).toBe(true);
      expect(alice.jobs).toHaveLength(2);
      expect(bob.jobs).toHaveLength(1);

      // bob's job, cached for bob, is a 404 for alice.
      const bobsJob = bob.jobs[0].id as number;
      await warm(`/api/jobs/${bobsJob}`, 'bob');
      const stolen = await call('GET', `/api/jobs/${bobsJob}`, undefined, 'alice');
      expect(stolen.status).toBe(404);
      expect(JSON.stringify(stolen.json)).not.toContain('import');
    });

    it('per-user responses say private and vary on Authorization', async () => {
      const res = await call('GET', '/api/jobs', undefined, 'alice');
      expect(res.headers.get('cache-control')).toBe('private, no-cache, max-age=0');
      expect(res.headers.get('vary')).toBe('Authorization, Accept-Encoding');
    });

    it("POST invalidates only the caller's list; PATCH the job and the owner's list", async () => {
      await warm('/api/jobs', 'alice');
      await warm('/api/jobs', 'bob');
      const created = await call('POST', '/api/jobs', { name: 'nightly' }, 'alice');
      expect(created.status).toBe(201);
      const aliceList = await call('GET', '/api/jobs', undefined, 'alice');
      expect(aliceList.xCache).toBe('MISS');
      expect(aliceList.json.jobs).toHaveLength(3);
      expect((await call('GET', '/api/jobs', undefined, 'bob')).xCache).toBe('HIT');

      const id = created.json.job.id as number;
      await warm(`/api/jobs/${id}`, 'alice');
      await warm('/api/jobs', 'alice');
      const patched = await call('PATCH', `/api/jobs/${id}/status`, { status: 'running' }, 'alice');
      expect(patched.status).toBe(200);
      const job = await call('GET', `/api/jobs/${id}`, undefined, 'alice');
      expect([job.xCache, job.json.job.status]).toEqual(['MISS', 'running']);
      expect((await call('GET', '/api/jobs', undefined, 'alice')).xCache).toBe('MISS');
    });
  });

  it('each mutation reaches the data layer once, and the next read once more', async () => {
    await warm('/api/users/1');
    const before = dbQueries(fixture);
    await call('PUT', '/api/users/1', { name: 'A' });
    await call('GET', '/api/users/1');
    await call('GET', '/api/users/1');
    expect(dbQueries(fixture)).toBe(before + 2);
  });
});
