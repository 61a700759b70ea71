import { BadRequestException, Inject, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';

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
export type JobStatus = 'queued' | 'running' | 'done' | 'failed';
export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'done', 'failed'];
export interface Job {
  id: number;
  owner: string;
  name: string;
  status: JobStatus;
  updatedAt: string;
}

export const DB_OPTIONS = Symbol('DB_OPTIONS');
export interface DbOptions {
  latencyMs: number;
  failureRate: number;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function text(body: Record<string, unknown>, field: string, max: number, required: boolean): string | undefined {
  const value = body[field];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    throw new BadRequestException(`"${field}" must be a non-empty string of at most ${max} characters`);
  }
  return value.trim();
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestException('the body must be a JSON object');
  return body as Record<string, unknown>;
}

/** The demo's rows. One per app, unless several app instances share one (as real ones share a database). */
export class DemoData {
  readonly users = new Map<number, User>();
  readonly posts = new Map<number, Post>();
  readonly jobs = new Map<number, Job>();
  nextUserId = 1;
  nextPostId = 1;
  nextJobId = 1;

  constructor() {
    for (const [name, email] of [
      ['Ada Lovelace', 'ada@example.com'],
      ['Alan Turing', 'alan@example.com'],
      ['Grace Hopper', 'grace@example.com'],
    ]) {
      const user = { id: this.nextUserId++, name, email };
      this.users.set(user.id, user);
    }
    for (let i = 1; i <= 30; i++) {
      const post = { id: this.nextPostId++, title: `Post ${i}`, body: `Body of post ${i}.`, authorId: ((i - 1) % 3) + 1 };
      this.posts.set(post.id, post);
    }
    for (const [owner, name] of [
      ['alice', 'backup'],
      ['alice', 'report'],
      ['bob', 'import'],
    ]) {
      const job: Job = { id: this.nextJobId++, owner, name, status: 'queued', updatedAt: new Date(0).toISOString() };
      this.jobs.set(job.id, job);
    }
  }
}

export const DEMO_DATA = Symbol('DEMO_DATA');

/**
 * The demo's data layer: in memory, with `DEMO_DB_LATENCY_MS` of simulated latency on every
 * call, an adjustable failure rate (503), and each call counted in `demo_db_queries_total`.
 */
@Injectable()
export class DemoDatabase {
  private readonly users: Map<number, User>;
  private readonly posts: Map<number, Post>;
  private readonly jobs: Map<number, Job>;

  constructor(
    @Inject(DB_OPTIONS) readonly settings: DbOptions,
    @InjectMetric('demo_db_queries_total') private readonly queries: Counter<'operation'>,
    @Inject(DEMO_DATA) private readonly data: DemoData,
  ) {
    this.users = data.users;
    this.posts = data.posts;
    this.jobs = data.jobs;
  }

  async listUsers(): Promise<User[]> {
    await this.call('listUsers');
    return [...this.users.values()];
  }

  async getUser(id: number): Promise<User> {
    await this.call('getUser');
    return this.found(this.users.get(id), `user ${id}`);
  }

  async createUser(input: unknown): Promise<User> {
    const body = objectBody(input);
    const name = text(body, 'name', 200, true)!;
    const email = text(body, 'email', 320, true)!;
    if (!EMAIL.test(email)) throw new BadRequestException('"email" must be an email address');
    await this.call('createUser');
    const user = { id: this.data.nextUserId++, name, email };
    this.users.set(user.id, user);
    return user;
  }

  async updateUser(id: number, input: unknown): Promise<User> {
    const body = objectBody(input);
    const name = text(body, 'name', 200, false);
    const email = text(body, 'email', 320, false);
    if (email !== undefined && !EMAIL.test(email)) throw new BadRequestException('"email" must be an email address');
    await this.call('updateUser');
    const user = this.found(this.users.get(id), `user ${id}`);
    const updated = { ...user, ...(name === undefined ? {} : { name }), ...(email === undefined ? {} : { email }) };
    this.users.set(id, updated);
    return updated;
  }

  async deleteUser(id: number): Promise<void> {
    await this.call('deleteUser');
    this.found(this.users.get(id), `user ${id}`);
    this.users.delete(id);
  }

  async listPosts(page: number, limit: number, authorId?: number): Promise<{ posts: Post[]; total: number }> {
    await this.call('listPosts');
    const all = [...this.posts.values()].filter((p) => authorId === undefined || p.authorId === authorId);
    return { posts: all.slice((page - 1) * limit, page * limit), total: all.length };
  }

  async getPost(id: number): Promise<Post> {
    await this.call('getPost');
    return this.found(this.posts.get(id), `post ${id}`);
  }

  async createPost(input: unknown): Promise<Post> {
    const body = objectBody(input);
    const title = text(body, 'title', 300, true)!;
    const content = text(body, 'body', 10_000, true)!;
    const authorId = body.authorId;
    if (!Number.isInteger(authorId) || (authorId as number) < 1)
      throw new BadRequestException('"authorId" must be a positive whole number');
    await this.call('createPost');
    if (!this.users.has(authorId as number)) throw new BadRequestException(`"authorId" ${String(authorId)} is not a user`);
    const post = { id: this.data.nextPostId++, title, body: content, authorId: authorId as number };
    this.posts.set(post.id, post);
    return post;
  }

  async updatePost(id: number, input: unknown): Promise<Post> {
    const body = objectBody(input);
    const title = text(body, 'title', 300, false);
    const content = text(body, 'body', 10_000, false);
    await this.call('updatePost');
    const post = this.found(this.posts.get(id), `post ${id}`);
    const updated = { ...post, ...(title === undefined ? {} : { title }), ...(content === undefined ? {} : { body: content }) };
    this.posts.set(id, updated);
    return updated;
  }

  async deletePost(id: number): Promise<void> {
    await this.call('deletePost');
    this.found(this.posts.get(id), `post ${id}`);
    this.posts.delete(id);
  }

  async listJobs(owner: string): Promise<Job[]> {
    await this.call('listJobs');
    return [...this.jobs.values()].filter((j) => j.owner === owner);
  }

  /** The caller's job; another user's job is reported as missing, not as forbidden. */
  async getJob(owner: string, id: number): Promise<Job> {
    await this.call('getJob');
    const job = this.jobs.get(id);
    return this.found(job?.owner === owner ? job : undefined, `job ${id}`);
  }

  async createJob(owner: string, input: unknown): Promise<Job> {
    const name = text(objectBody(input), 'name', 200, true)!;
    await this.call('createJob');
    const job: Job = { id: this.data.nextJobId++, owner, name, status: 'queued', updatedAt: new Date().toISOString() };
    this.jobs.set(job.id, job);
    return job;
  }

  async setJobStatus(owner: string, id: number, input: unknown): Promise<Job> {
    const status = objectBody(input).status;
    if (typeof status !== 'string' || !JOB_STATUSES.includes(status as JobStatus)) {
      throw new BadRequestException(`"status" must be one of ${JOB_STATUSES.join(', ')}`);
    }
    await this.call('setJobStatus');
    const job = this.jobs.get(id);
    const mine = this.found(job?.owner === owner ? job : undefined, `job ${id}`);
    const updated = { ...mine, status: status as JobStatus, updatedAt: new Date().toISOString() };
    this.jobs.set(id, updated);
    return updated;
  }

  private async call(operation: string): Promise<void> {
    this.queries.inc({ operation });
    const { latencyMs, failureRate } = this.settings;
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (failureRate > 0 && Math.random() < failureRate) throw new ServiceUnavailableException('the demo database failed (simulated)');
  }

  private found<T>(value: T | undefined, what: string): T {
    if (value === undefined) throw new NotFoundException(`${what} not found`);
    return value;
  }
}
