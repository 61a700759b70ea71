import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { Client } from 'pg';
import { DemoProcess } from '../check/consistency/demo-process';
import { jsonCall } from '../check/consistency/json-call';
import { ADMIN_URL, createDatabase, dropDatabase } from '../test/support/postgres';
import { RedisProcess, freePort } from '../test/support/redis-harness';
import { VarnishProcess } from '../test/support/varnish-harness';

/**
 * Database load saved: the demo on a real PostgreSQL server, one fixed read-heavy mix (90 % reads
 * over Zipf-distributed ids, 10 % writes), with the cache off, the memory, Redis and tiered
 * stores. The same seeded request sequence for every mode.
 */
export type Mode = 'off' | 'memory' | 'redis' | 'tiered' | 'varnish';

export interface DatabaseLoad {
  mode: Mode;
  /** Share of writes in the mix. */
  writeShare: number;
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Reads answered from the cache (X-Cache HIT or STALE, or a hit at the edge) of all reads. */
  hitRatio: number;
  /** `varnish`: reads the edge answered itself (`Cache-Status` ends with `varnish; hit`), of all reads. */
  edgeHitRatio?: number;
  /** `varnish`: requests that reached Node, per 1,000 (varnishstat MAIN.backend_req). */
  reachedNodePer1000?: number;
  /** Statements per 1,000 requests, counted by the demo (demo_db_queries_total). */
  queriesPer1000: number;
  /** Transactions per 1,000 requests, counted by PostgreSQL (pg_stat_database, the demo's startup included). */
  pgTransactionsPer1000: number;
  /** CPU of the demo process per request, microseconds. */
  cpuUsPerRequest: number;
  errors: number;
}

const POSTS = 1000;
const USERS = 100;
const OWNERS = ['alice', 'bob', 'carol', 'dave'];

/** A small seeded generator (mulberry32), so that every mode gets the same request sequence. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Ids 1..n drawn with probability ∝ 1/rank^s. */
function zipf(n: number, s = 1.1): (u: number) => number {
  const cdf: number[] = [];
  let sum = 0;
  for (let i = 1; i <= n; i++) cdf.push((sum += 1 / i ** s));
  return (u) => {
    const target = u * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

interface Step {
  method: string;
  path: string;
  body?: unknown;
  user?: string;
  read: boolean;
}

/**
 * The mix, for a share `w` of writes: reads (1 − w) split as 50 % a post, 22 % a user, 11 % a page of
 * posts, 8 % the feed, 9 % a job list; writes (w) split as 60 % a job's status, 20 % a user's name,
 * 20 % a post's title. Ids are Zipf-distributed.
 */
function mix(seed: number, writeShare: number): () => Step {
  const random = generator(seed);
  const post = zipf(POSTS);
  const user = zipf(USERS);
  const page = zipf(POSTS / 10);
  let n = 0;
  return () => {
    const u = random();
    const owner = OWNERS[Math.floor(random() * OWNERS.length)];
    n++;
    if (random() >= writeShare) {
      const roll = random();
      if (roll < 0.5) return { method: 'GET', path: `/api/posts/${post(u)}`, read: true };
      if (roll < 0.72) return { method: 'GET', path: `/api/users/${user(u)}`, read: true };
      if (roll < 0.83) return { method: 'GET', path: `/api/posts?page=${page(u)}&limit=10`, read: true };
      if (roll < 0.91) return { method: 'GET', path: '/api/feed', read: true };
      return { method: 'GET', path: '/api/jobs', user: owner, read: true };
    }
    const roll = random();
    if (roll < 0.6) {
      const job = 1 + Math.floor(u * 40);
      return { method: 'PATCH', path: `/api/jobs/${job}/status`, body: { status: 'running' }, user: OWNERS[job % 4], read: false };
    }
    if (roll < 0.8) return { method: 'PUT', path: `/api/users/${user(u)}`, body: { name: `User ${n}` }, read: false };
    return { method: 'PUT', path: `/api/posts/${post(u)}`, body: { title: `Title ${n}` }, read: false };
  };
}

/** The bench's rows over the demo's seed: 1,000 posts, 100 users, 40 jobs in 4 owners' lists. */
async function seed(databaseUrl: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`
      INSERT INTO users (name, email) SELECT 'User ' || i, 'user' || i || '@example.com' FROM generate_series(4, ${USERS}) AS i;
      INSERT INTO posts (title, body, author_id) SELECT 'Post ' || i, repeat('Body of post ' || i || '. ', 20), 1 + i % ${USERS}
        FROM generate_series(31, ${POSTS}) AS i;
      DELETE FROM jobs;
      INSERT INTO jobs (id, owner, name, status, updated_at)
        SELECT i, (ARRAY['${OWNERS.join("','")}'])[1 + i % 4], 'job ' || i, 'queued', now() FROM generate_series(1, 40) AS i;
      SELECT setval('jobs_id_seq', 40);`);
  } finally {
    await client.end();
  }
}

async function transactions(databaseUrl: string): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 300)); // exited backends' statistics reach pg_stat_database
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    const name = new URL(databaseUrl).pathname.slice(1);
    const { rows } = await client.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [
      name,
    ]);
    return Number(rows[0].n);
  } finally {
    await client.end();
  }
}

function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / 100) * 1e6; // utime + stime, in clock ticks of 10 ms
}

/** `connections` closed-loop clients for `seconds`, the same sequence of requests whatever the mode. */
async function drive(url: string, seconds: number, connections: number, writeShare: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const next = mix(42, writeShare);
  const latencies: number[] = [];
  let reads = 0;
  let hits = 0;
  let edgeHits = 0;
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const client = async () => {
    while (performance.now() < deadline) {
      const step = next();
      const started = performance.now();
      const headers: Record<string, string> = step.user === undefined ? {} : { authorization: `Bearer ${step.user}` };
      const answer = await jsonCall(agent, `${url}${step.path}`, step.method, { body: step.body, headers });
      const status = answer?.status ?? 0;
      latencies.push(performance.now() - started);
      if (status >= 400 || status === 0) errors++; // the mix asks for nothing that may fail
      if (step.read) reads++;
      const atEdge = answer?.cacheStatus?.endsWith('varnish; hit') === true;
      if (step.read && atEdge) edgeHits++;
      if (step.read && (atEdge || answer?.xCache === 'HIT' || answer?.xCache === 'STALE')) hits++;
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { requests: latencies.length, p50Ms: at(0.5), p99Ms: at(0.99), hitRatio: hits / reads, edgeHitRatio: edgeHits / reads, errors };
}

/**
 * One mode: its own database and (for redis and tiered) Redis, one demo process, the mix for
 * `seconds`; `varnish`: the memory store with a Varnish (deploy/varnish/default.vcl) in front,
 * which the demo purges, and the clients going through it.
 */
export async function databaseLoad(mode: Mode, writeShare: number, seconds: number, connections: number): Promise<DatabaseLoad> {
  const databaseUrl = await createDatabase('rc_bench');
  const redis = mode === 'redis' || mode === 'tiered' ? await RedisProcess.start() : undefined;
  let demo: DemoProcess | undefined;
  let varnish: VarnishProcess | undefined;
  try {
    const env: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      CACHE_STORE: mode === 'off' || mode === 'varnish' ? 'memory' : mode,
      HTTP_ADAPTER: 'fastify',
    };
    const edgePort = mode === 'varnish' ? await freePort() : undefined;
    if (mode === 'off') env.CACHE_ENABLED = 'false';
    if (redis !== undefined) env.REDIS_URL = redis.url;
    // The first start migrates and seeds; the bench adds its rows, then starts the measured process.
    await (await DemoProcess.start(env)).stop();
    await seed(databaseUrl);
    const pgBefore = await transactions(databaseUrl);
    if (edgePort !== undefined) Object.assign(env, { CACHE_EDGE: 'varnish', VARNISH_URLS: `http://127.0.0.1:${edgePort}` });
    demo = await DemoProcess.start(env);
    if (edgePort !== undefined) varnish = await VarnishProcess.start(Number(new URL(demo.url).port), 'default.vcl', edgePort);
    const queriesBefore = await demo.statements();
    const cpuBefore = cpuUs(demo.pid);
    const backendBefore = varnish?.backendRequests() ?? 0;
    const run = await drive(varnish?.url ?? demo.url, seconds, connections, writeShare);
    const backend = (varnish?.backendRequests() ?? 0) - backendBefore;
    const cpu = cpuUs(demo.pid) - cpuBefore;
    const counted = (await demo.statements()) - queriesBefore;
    await demo.stop();
    demo = undefined;
    const pg = (await transactions(databaseUrl)) - pgBefore;
    const per1000 = (n: number) => Math.round((n / run.requests) * 1000);
    return {
      mode,
      writeShare,
      requests: run.requests,
      rps: Math.round(run.requests / seconds),
      p50Ms: Number(run.p50Ms.toFixed(2)),
      p99Ms: Number(run.p99Ms.toFixed(2)),
      hitRatio: Number(run.hitRatio.toFixed(3)),
      ...(varnish === undefined ? {} : { edgeHitRatio: Number(run.edgeHitRatio.toFixed(3)), reachedNodePer1000: per1000(backend) }),
      queriesPer1000: per1000(counted),
      pgTransactionsPer1000: per1000(pg),
      cpuUsPerRequest: Math.round(cpu / run.requests),
      errors: run.errors,
    };
  } finally {
    await varnish?.stop();
    await demo?.stop();
    await redis?.stop();
    await dropDatabase(databaseUrl);
  }
}
