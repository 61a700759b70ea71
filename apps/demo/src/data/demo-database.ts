import {
  BadRequestException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnApplicationShutdown,
  ServiceUnavailableException,
} from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Histogram } from 'prom-client';
import type { SqlClient } from './sql-client';
import { httpErrorOf } from './sql-errors';
import { email, objectBody, rowId, text } from './validate';

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
/** One row of the feed: a post with its author and what its comments add up to. */
export interface FeedItem {
  id: number;
  title: string;
  author: { id: number; name: string };
  comments: number;
  commenters: number;
  lastCommentAt: string | null;
}

export const SQL_CLIENT = Symbol('SQL_CLIENT');
export const DB_OPTIONS = Symbol('DB_OPTIONS');
export interface DbOptions {
  /** Extra delay before every statement (DEMO_DB_LATENCY_MS; `PUT /admin/demo/db`). */
  latencyMs: number;
  /** Share of statements that fail with 503 before reaching the database (`PUT /admin/demo/db`). */
  failureRate: number;
}

const USER = 'id, name, email';
const POST = 'id, title, body, author_id AS "authorId"';
const JOB = 'id, owner, name, status, updated_at AS "updatedAt"';
type JobRow = Omit<Job, 'updatedAt'> & { updatedAt: Date };

const toJob = (row: JobRow): Job => ({ ...row, updatedAt: new Date(row.updatedAt).toISOString() });

/**
 * The demo's data layer: plain SQL on PostgreSQL (a server, or PGlite in the process). Every
 * statement is counted in `demo_db_queries_total` and timed in `demo_db_query_duration_seconds`;
 * a broken constraint answers 409 or 400, an unreachable database 503.
 */
@Injectable()
export class DemoDatabase implements OnApplicationShutdown {
  private readonly logger = new Logger('DemoDatabase');

  constructor(
    @Inject(DB_OPTIONS) readonly settings: DbOptions,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @InjectMetric('demo_db_queries_total') private readonly queries: Counter<'operation'>,
    @InjectMetric('demo_db_query_duration_seconds') private readonly durations: Histogram<'operation'>,
  ) {}

  listUsers(): Promise<User[]> {
    return this.rows('listUsers', `SELECT ${USER} FROM users ORDER BY id`);
  }

  async getUser(id: number): Promise<User> {
    return this.one(await this.rows<User>('getUser', `SELECT ${USER} FROM users WHERE id = $1`, [id]), `user ${id}`);
  }

  async createUser(input: unknown): Promise<User> {
    const body = objectBody(input);
    const values = [text(body, 'name', 200, true), email(body, true)];
    return this.one(
      await this.rows<User>('createUser', `INSERT INTO users (name, email) VALUES ($1, $2) RETURNING ${USER}`, values),
      'user',
    );
  }

  async updateUser(id: number, input: unknown): Promise<User> {
    const body = objectBody(input);
    const values = [id, text(body, 'name', 200, false) ?? null, email(body, false) ?? null];
    const sql = `UPDATE users SET name = COALESCE($2, name), email = COALESCE($3, email) WHERE id = $1 RETURNING ${USER}`;
    return this.one(await this.rows<User>('updateUser', sql, values), `user ${id}`);
  }

  /** Deletes the user with their posts and comments (the foreign keys cascade). */
  async deleteUser(id: number): Promise<void> {
    this.one(await this.rows('deleteUser', 'DELETE FROM users WHERE id = $1 RETURNING id', [id]), `user ${id}`);
  }

  async listPosts(page: number, limit: number, authorId?: number): Promise<{ posts: Post[]; total: number }> {
    const sql = `
      WITH f AS (SELECT * FROM posts WHERE $3::integer IS NULL OR author_id = $3)
      SELECT (SELECT count(*)::integer FROM f) AS total,
             COALESCE((SELECT json_agg(json_build_object('id', id, 'title', title, 'body', body, 'authorId', author_id) ORDER BY id)
                       FROM (SELECT * FROM f ORDER BY id LIMIT $1 OFFSET $2) AS page), '[]'::json) AS posts`;
    const [row] = await this.rows<{ total: number; posts: Post[] }>('listPosts', sql, [limit, (page - 1) * limit, authorId ?? null]);
    return row;
  }

  async getPost(id: number): Promise<Post> {
    return this.one(await this.rows<Post>('getPost', `SELECT ${POST} FROM posts WHERE id = $1`, [id]), `post ${id}`);
  }

  async createPost(input: unknown): Promise<Post> {
    const body = objectBody(input);
    const values = [text(body, 'title', 300, true), text(body, 'body', 10_000, true), rowId(body, 'authorId')];
    const sql = `INSERT INTO posts (title, body, author_id) VALUES ($1, $2, $3) RETURNING ${POST}`;
    return this.one(await this.rows<Post>('createPost', sql, values), 'post');
  }

  async updatePost(id: number, input: unknown): Promise<Post> {
    const body = objectBody(input);
    const values = [id, text(body, 'title', 300, false) ?? null, text(body, 'body', 10_000, false) ?? null];
    const sql = `UPDATE posts SET title = COALESCE($2, title), body = COALESCE($3, body) WHERE id = $1 RETURNING ${POST}`;
    return this.one(await this.rows<Post>('updatePost', sql, values), `post ${id}`);
  }

  async deletePost(id: number): Promise<void> {
    this.one(await this.rows('deletePost', 'DELETE FROM posts WHERE id = $1 RETURNING id', [id]), `post ${id}`);
  }

  /** The expensive read: the most commented posts, each with its author and its comments aggregated. */
  async feed(limit: number): Promise<FeedItem[]> {
    const sql = `
      SELECT p.id, p.title, json_build_object('id', u.id, 'name', u.name) AS author,
             count(c.id)::integer AS comments, count(DISTINCT c.author_id)::integer AS commenters,
             to_char(max(c.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "lastCommentAt"
      FROM posts p JOIN users u ON u.id = p.author_id LEFT JOIN comments c ON c.post_id = p.id
      GROUP BY p.id, u.id ORDER BY comments DESC, p.id LIMIT $1`;
    return this.rows<FeedItem>('feed', sql, [limit]);
  }

  async listJobs(owner: string): Promise<Job[]> {
    return (await this.rows<JobRow>('listJobs', `SELECT ${JOB} FROM jobs WHERE owner = $1 ORDER BY id`, [owner])).map(toJob);
  }

  /** The caller's job; another user's job is reported as missing, not as forbidden. */
  async getJob(owner: string, id: number): Promise<Job> {
    const rows = await this.rows<JobRow>('getJob', `SELECT ${JOB} FROM jobs WHERE id = $1 AND owner = $2`, [id, owner]);
    return toJob(this.one(rows, `job ${id}`));
  }

  async createJob(owner: string, input: unknown): Promise<Job> {
    const name = text(objectBody(input), 'name', 200, true);
    const sql = `INSERT INTO jobs (owner, name, status, updated_at) VALUES ($1, $2, 'queued', now()) RETURNING ${JOB}`;
    return toJob(this.one(await this.rows<JobRow>('createJob', sql, [owner, name]), 'job'));
  }

  async setJobStatus(owner: string, id: number, input: unknown): Promise<Job> {
    const status = objectBody(input).status;
    if (typeof status !== 'string' || !JOB_STATUSES.includes(status as JobStatus)) {
      throw new BadRequestException(`"status" must be one of ${JOB_STATUSES.join(', ')}`);
    }
    const sql = `UPDATE jobs SET status = $3, updated_at = now() WHERE id = $1 AND owner = $2 RETURNING ${JOB}`;
    return toJob(this.one(await this.rows<JobRow>('setJobStatus', sql, [id, owner, status]), `job ${id}`));
  }

  onApplicationShutdown(): Promise<void> {
    return this.sql.close();
  }

  /** Runs one statement: counted, timed, delayed and failed as the settings say, its errors mapped to HTTP. */
  private async rows<R>(operation: string, sql: string, params?: readonly unknown[]): Promise<R[]> {
    this.queries.inc({ operation });
    const { latencyMs, failureRate } = this.settings;
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (failureRate > 0 && Math.random() < failureRate) throw new ServiceUnavailableException('the demo database failed (simulated)');
    const stop = this.durations.startTimer({ operation });
    try {
      return await this.sql.query<R>(sql, params);
    } catch (error) {
      const http = httpErrorOf(error);
      if (http.getStatus() === 503) this.logger.error(`${operation} failed: ${error instanceof Error ? error.message : String(error)}`);
      throw http;
    } finally {
      stop();
    }
  }

  private one<T>(rows: T[], what: string): T {
    if (rows.length === 0) throw new NotFoundException(`${what} not found`);
    return rows[0];
  }
}
