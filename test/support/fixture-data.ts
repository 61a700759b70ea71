import { BadRequestException, NotFoundException, PipeTransform, ServiceUnavailableException } from '@nestjs/common';

export interface User {
  id: number;
  name: string;
  email: string;
}
export interface Post {
  id: number;
  title: string;
  body: string;
  authorId: number;
}
export interface Job {
  id: number;
  owner: string;
  name: string;
  status: string;
  updatedAt: string;
}

const JOB_STATUSES = ['queued', 'running', 'done', 'failed'];

/** Route ids are positive whole numbers, as in the demo; anything else is a 400. */
export class IdPipe implements PipeTransform<string, number> {
  transform(value: string): number {
    if (!/^[1-9]\d{0,8}$/.test(value)) throw new BadRequestException(`id must be a positive whole number, got "${value}"`);
    return Number(value);
  }
}

function found<T>(row: T | undefined, what: string): T {
  if (row === undefined) throw new NotFoundException(`${what} not found`);
  return row;
}

/** The request body as an object with the named string fields (the required ones present). */
function fields(body: unknown, names: string[], required: boolean): Record<string, string | undefined> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestException('the body must be a JSON object');
  const values: Record<string, string | undefined> = {};
  for (const name of names) {
    const value = (body as Record<string, unknown>)[name];
    if (value === undefined && !required) continue;
    if (typeof value !== 'string' || value.trim() === '') throw new BadRequestException(`"${name}" must be a non-empty string`);
    values[name] = value;
  }
  return values;
}

/** Copies the fields that were given onto `row` (its keys keep their order). */
function patch<T extends object>(row: T, values: Record<string, string | undefined>): T {
  for (const [name, value] of Object.entries(values)) if (value !== undefined) Object.assign(row, { [name]: value });
  return row;
}

/**
 * The fixture's "database": the demo's seed rows (3 users, 30 posts, 3 jobs of alice and bob) in
 * memory, with the same JSON shapes. Every call is counted by operation in `queries`, as the demo
 * counts its statements in `demo_db_queries_total` (writes and failed reads included), then
 * delayed and failed as `settings` say (the demo's `PUT /admin/demo/db`). A test changes rows
 * behind the cache's back through the maps.
 */
export class FixtureData {
  readonly settings = { latencyMs: 0, failureRate: 0 };
  readonly queries: Record<string, number> = {};
  readonly users = new Map<number, User>();
  readonly posts = new Map<number, Post>();
  readonly jobs = new Map<number, Job>();
  private readonly nextId = { user: 4, post: 31, job: 4 };

  constructor() {
    const names = [
      ['Ada Lovelace', 'ada@example.com'],
      ['Alan Turing', 'alan@example.com'],
      ['Grace Hopper', 'grace@example.com'],
    ];
    names.forEach(([name, email], i) => this.users.set(i + 1, { id: i + 1, name, email }));
    for (let i = 1; i <= 30; i++) this.posts.set(i, { id: i, title: `Post ${i}`, body: `Body of post ${i}.`, authorId: ((i - 1) % 3) + 1 });
    const epoch = new Date(0).toISOString();
    const jobs: [string, string][] = [
      ['alice', 'backup'],
      ['alice', 'report'],
      ['bob', 'import'],
    ];
    jobs.forEach(([owner, name], i) => this.jobs.set(i + 1, { id: i + 1, owner, name, status: 'queued', updatedAt: epoch }));
  }

  /** Calls so far, all operations. */
  get total(): number {
    return Object.values(this.queries).reduce((sum, n) => sum + n, 0);
  }

  listUsers = () => this.run('listUsers', () => [...this.users.values()]);
  getUser = (id: number) => this.run('getUser', () => found(this.users.get(id), `user ${id}`));
  createUser = (body: unknown) =>
    this.run('createUser', () => {
      const { name, email } = fields(body, ['name', 'email'], true);
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email!)) throw new BadRequestException('"email" must be an email address');
      return this.insert(this.users, { id: this.nextId.user++, name: name!, email: email! });
    });
  updateUser = (id: number, body: unknown) =>
    this.run('updateUser', () => patch(found(this.users.get(id), `user ${id}`), fields(body, ['name', 'email'], false)));
  /** Their posts go too, as the demo's foreign key cascades. */
  deleteUser = (id: number) =>
    this.run('deleteUser', () => {
      found(this.users.get(id), `user ${id}`);
      this.users.delete(id);
      for (const post of [...this.posts.values()]) if (post.authorId === id) this.posts.delete(post.id);
    });

  listPosts = (page: number, limit: number, authorId?: number) =>
    this.run('listPosts', () => {
      const all = [...this.posts.values()].filter((post) => authorId === undefined || post.authorId === authorId);
      return { posts: all.slice((page - 1) * limit, page * limit), total: all.length };
    });
  getPost = (id: number) => this.run('getPost', () => found(this.posts.get(id), `post ${id}`));
  createPost = (body: unknown) =>
    this.run('createPost', () => {
      const { title, body: text } = fields(body, ['title', 'body'], true);
      const authorId = (body as { authorId?: unknown }).authorId;
      if (typeof authorId !== 'number' || !this.users.has(authorId)) throw new BadRequestException('"authorId" is not a user');
      return this.insert(this.posts, { id: this.nextId.post++, title: title!, body: text!, authorId });
    });
  updatePost = (id: number, body: unknown) =>
    this.run('updatePost', () => patch(found(this.posts.get(id), `post ${id}`), fields(body, ['title', 'body'], false)));
  deletePost = (id: number) => this.run('deletePost', () => void this.posts.delete(found(this.posts.get(id), `post ${id}`).id));

  listJobs = (owner: string) => this.run('listJobs', () => [...this.jobs.values()].filter((job) => job.owner === owner));
  /** The caller's job; another user's job is reported as missing, as in the demo. */
  getJob = (owner: string, id: number) => this.run('getJob', () => this.ownJob(owner, id));
  createJob = (owner: string, body: unknown) =>
    this.run('createJob', () => {
      const { name } = fields(body, ['name'], true);
      return this.insert(this.jobs, { id: this.nextId.job++, owner, name: name!, status: 'queued', updatedAt: new Date().toISOString() });
    });
  setJobStatus = (owner: string, id: number, body: unknown) =>
    this.run('setJobStatus', () => {
      const { status } = fields(body, ['status'], true);
      if (!JOB_STATUSES.includes(status!)) throw new BadRequestException(`"status" must be one of ${JOB_STATUSES.join(', ')}`);
      return patch(this.ownJob(owner, id), { status, updatedAt: new Date().toISOString() });
    });

  private ownJob(owner: string, id: number): Job {
    const job = this.jobs.get(id);
    return found(job?.owner === owner ? job : undefined, `job ${id}`);
  }

  private insert<T extends { id: number }>(table: Map<number, T>, row: T): T {
    table.set(row.id, row);
    return row;
  }

  /** One call: counted, then delayed and failed as the settings say. */
  private async run<T>(operation: string, work: () => T): Promise<T> {
    this.queries[operation] = (this.queries[operation] ?? 0) + 1;
    const { latencyMs, failureRate } = this.settings;
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (failureRate > 0 && Math.random() < failureRate) throw new ServiceUnavailableException('the fixture database failed (simulated)');
    return work();
  }
}
