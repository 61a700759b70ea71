import { Agent } from 'node:http';
import { ABSENT, Read, Write } from './history';
import { JsonAnswer, jsonCall } from './json-call';
import { WriteGate } from './write-gate';

export interface WorkloadOptions {
  /** Base URLs of the demo instances; every client spreads its requests over all of them. */
  instances: string[];
  durationMs: number;
  /** Stop after this many operations, whichever comes first. */
  maxOperations: number;
  writers: number;
  readers: number;
  /** Each writer waits up to this long (uniformly) between its writes, so that reads find cached entries. */
  writerPauseMs: number;
  /** Bound on one request (a request past it counts as failed). */
  requestTimeoutMs?: number;
  /** Held by the fault schedule while a failover happens (see WriteGate). */
  gate?: WriteGate;
}

export interface WorkloadResult {
  writes: Write[];
  reads: Read[];
  operations: number;
  /** Requests that got no valid answer: network errors, timeouts, 5xx. */
  failed: number;
  /** Reads answered from the cache (X-Cache HIT or STALE), at the edge or in the app. */
  cacheHits: number;
  /** Reads the edge answered itself (`Cache-Status` ends with `varnish; hit`): they never reached an app. */
  edgeHits: number;
}

/**
 * Writers (PUT, POST, DELETE of posts by one author) and readers (the post, or the author's list)
 * on every instance at once, each operation recorded with its start, end and result.
 */
export async function runWorkload(options: WorkloadOptions): Promise<WorkloadResult> {
  const timeout = options.requestTimeoutMs ?? 5_000;
  const result: WorkloadResult = { writes: [], reads: [], operations: 0, failed: 0, cacheHits: 0, edgeHits: 0 };
  const keys = new Set<number>();
  const live = new Set<number>();
  const failedCreates = new Map<string, { start: number; end: number }>();
  let titles = 0;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];
  const agent = new Agent({ keepAlive: true });
  // The Host a load balancer would pass to every instance alike (keys include the host).
  const call = (method: string, path: string, body?: unknown, base = pick(options.instances)): Promise<JsonAnswer | undefined> =>
    jsonCall(agent, `${base}${path}`, method, { body, headers: { host: 'api.example.com' }, timeoutMs: timeout });
  const numberOf = (base: string) => options.instances.indexOf(base);
  const user = await call('POST', '/api/users', { name: 'Consistency', email: `consistency-${process.pid}-${Date.now()}@example.com` });
  if (user?.status !== 201) throw new Error(`could not create the workload's author: ${JSON.stringify(user)}`);
  const authorId = (user.body as { user: { id: number } }).user.id;

  /** One write; a 404 (the post is gone) changed nothing and is not recorded. */
  const write = async (method: 'POST' | 'PUT' | 'DELETE', key?: number): Promise<void> => {
    await options.gate?.enter();
    try {
      await writeNow(method, key);
    } finally {
      options.gate?.leave();
    }
  };
  const writeNow = async (method: 'POST' | 'PUT' | 'DELETE', key?: number): Promise<void> => {
    const title = `c${process.pid}-${++titles}`;
    const base = pick(options.instances);
    const start = performance.now();
    const answer =
      method === 'POST'
        ? await call('POST', '/api/posts', { title, body: 'consistency', authorId }, base)
        : method === 'PUT'
          ? await call('PUT', `/api/posts/${key}`, { title }, base)
          : await call('DELETE', `/api/posts/${key}`, undefined, base);
    const end = performance.now();
    result.operations++;
    const status = answer?.status ?? 0;
    if (status === 404) return;
    const acknowledged = status >= 200 && status < 300;
    if (!acknowledged) result.failed++;
    if (method === 'POST') {
      if (!acknowledged) return void failedCreates.set(title, { start, end });
      key = (answer!.body as { post: { id: number } }).post.id;
      keys.add(key);
      live.add(key);
    }
    if (method === 'DELETE' && acknowledged) live.delete(key!);
    const value = method === 'DELETE' ? ABSENT : title;
    result.writes.push({ key: key!, value, start, end, acknowledged, method, instance: numberOf(base) });
  };

  /** One read through `instance`: a post (a hot one, mostly), or the author's list (which covers every key known when it returns). */
  const read = async (instance: number, list: boolean): Promise<void> => {
    const key = Math.random() < 0.7 ? pick(hot) : pick([...keys]);
    const start = performance.now();
    const path = list ? `/api/posts?authorId=${authorId}&limit=100` : `/api/posts/${key}`;
    const answer = await call('GET', path, undefined, options.instances[instance]);
    const end = performance.now();
    result.operations++;
    const values = new Map<number, string>();
    if (answer?.status === 200 && list) {
      const posts = (answer.body as { posts: { id: number; title: string }[] }).posts;
      for (const post of posts) keys.add(post.id);
      for (const known of keys) values.set(known, ABSENT);
      for (const post of posts) values.set(post.id, post.title);
    } else if (answer?.status === 200) {
      values.set(key, (answer.body as { post: { title: string } }).post.title);
    } else if (answer?.status === 404 && !list) {
      values.set(key, ABSENT);
    } else {
      result.failed++;
      return;
    }
    const atEdge = answer.cacheStatus?.endsWith('varnish; hit') === true;
    if (atEdge) result.edgeHits++;
    if (atEdge || answer.xCache === 'HIT' || answer.xCache === 'STALE') result.cacheHits++;
    const { xCache, cacheStatus, age } = answer;
    result.reads.push({ start, end, values, instance, path, xCache, cacheStatus, age });
  };

  for (let i = 0; i < 6; i++) await write('POST');
  const hot = [...keys];
  const deadline = performance.now() + options.durationMs;
  const going = () => performance.now() < deadline && result.operations < options.maxOperations;
  const writer = async () => {
    while (going()) {
      const roll = Math.random();
      if (roll < 0.2 && live.size < 40) await write('POST');
      else if (roll < 0.35 && live.size > 3) await write('DELETE', pick([...live]));
      else await write('PUT', pick([...keys]));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * options.writerPauseMs));
    }
  };
  const reader = async (instance: number) => {
    while (going()) await read(instance, Math.random() < 0.4);
  };
  await Promise.all([
    ...Array.from({ length: options.writers }, writer),
    ...Array.from({ length: options.readers }, (_, i) => reader(i % options.instances.length)),
  ]);
  agent.destroy();
  // A create whose request failed and whose row a read saw anyway: a write that happened, unacknowledged.
  for (const r of result.reads) {
    for (const [key, value] of r.values) {
      const create = failedCreates.get(value);
      if (create !== undefined) result.writes.push({ key, value, ...create, acknowledged: false });
      failedCreates.delete(value);
    }
  }
  return result;
}
