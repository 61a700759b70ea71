/**
 * `npm run bench`: the benchmark suite (not part of `npm test`). Prints tables and writes
 * bench/results/latest.json (sections not run keep their last figures there). Every figure is
 * compared with a baseline measured in the same run, since the machines are shared and noisy. BENCH_SECONDS sets each run's length (default 5),
 * BENCH_ROUNDS the interleaved rounds (default 3), BENCH_CONNECTIONS the load (default 50).
 */
import autocannon from 'autocannon';
import { ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CacheEntry } from 'nestjs-response-cache';
import { ManualClock } from 'nestjs-response-cache/testing';
import { RedisCacheStore, TieredCacheStore, createRedisClient, duplicateClient } from 'nestjs-response-cache/redis';
import { RedisProcess } from '../test/support/redis-harness';
import { DatabaseLoad, Mode, databaseLoad } from './database-load';
import { ceilingSection } from './platform-ceiling';

type Adapter = 'express' | 'fastify';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

interface Server {
  url: string;
  child: ChildProcess;
}

function startServer(scenario: string, adapter: Adapter, env: Record<string, string> = {}): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'server.js'), [scenario, adapter], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /PORT (\d+)/.exec(out);
      if (match) resolve({ url: `http://127.0.0.1:${match[1]}`, child });
    });
    child.once('exit', (code) => reject(new Error(`bench server ${scenario}/${adapter} exited with ${code}`)));
  });
}

async function stop(server: Server): Promise<void> {
  server.child.removeAllListeners('exit');
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  max: number;
  /** Server CPU (user + system) per request, in microseconds. */
  cpuUs: number;
  errors: number;
  non2xx: number;
}

function cpuOf(server: Server): Promise<NodeJS.CpuUsage> {
  return new Promise((resolve) => {
    server.child.once('message', (usage) => resolve(usage as NodeJS.CpuUsage));
    server.child.send('cpu');
  });
}

async function load(
  server: Server,
  path: string,
  seconds = SECONDS,
  connections = CONNECTIONS,
  warmUp = true,
  headers: Record<string, string> = {},
): Promise<Load & { bytesPerRequest: number }> {
  const url = `${server.url}${path}`;
  if (warmUp) await autocannon({ url, connections, duration: 1, headers }); // fills the cache, warms the JIT
  const before = await cpuOf(server);
  const r = await autocannon({ url, connections, duration: seconds, headers });
  const after = await cpuOf(server);
  const cpu = after.user - before.user + (after.system - before.system);
  return {
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    cpuUs: Math.round((cpu / Math.max(1, r.requests.total)) * 10) / 10,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    bytesPerRequest: Math.round(r.throughput.total / Math.max(1, r.requests.total)),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

function medianLoad(loads: Load[]): Load {
  const pick = (field: keyof Load) => median(loads.map((l) => l[field]));
  return {
    rps: pick('rps'),
    p50: pick('p50'),
    p99: pick('p99'),
    max: pick('max'),
    cpuUs: pick('cpuUs'),
    errors: loads.reduce((n, l) => n + l.errors, 0),
    non2xx: loads.reduce((n, l) => n + l.non2xx, 0),
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round2 = (x: number) => Math.round(x * 100) / 100;

interface Scenario {
  id: string;
  label: string;
  server: string;
  path: string;
}

/**
 * Starts every server of the section first, then interleaves the runs round by round so that
 * drift in the machine's load touches every scenario alike; each figure is the median of the
 * rounds, compared with the section's first scenario (its baseline).
 */
async function section(adapter: Adapter, scenarios: Scenario[], env: Record<string, string> = {}) {
  const servers = new Map<string, Server>();
  for (const name of new Set(scenarios.map((s) => s.server))) servers.set(name, await startServer(name, adapter, env));
  const runs = new Map<string, Load[]>(scenarios.map((s) => [s.id, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const scenario of scenarios) runs.get(scenario.id)!.push(await load(servers.get(scenario.server)!, scenario.path));
  }
  const base = medianLoad(runs.get(scenarios[0].id)!);
  const rows: string[][] = [];
  const summary: Record<string, unknown> = {};
  for (const scenario of scenarios) {
    const x = medianLoad(runs.get(scenario.id)!);
    const rpsVsBase = round2(x.rps / base.rps);
    const cpuCapacityVsBase = round2(base.cpuUs / x.cpuUs);
    summary[scenario.id] = { label: scenario.label, ...x, rpsVsBase, cpuCapacityVsBase, rounds: runs.get(scenario.id) };
    rows.push([
      adapter,
      scenario.label,
      String(x.rps),
      rpsVsBase.toFixed(2),
      String(x.cpuUs),
      cpuCapacityVsBase.toFixed(2),
      String(x.p50),
      String(x.p99),
    ]);
  }
  return { servers, summary, rows };
}

async function stopAll(servers: Map<string, Server>): Promise<void> {
  for (const server of servers.values()) await stop(server);
}

/** p99 of 200 ms routes whose 1 s TTL keeps expiring, with and without stale-while-revalidate, and of a hit. */
async function expiring() {
  const server = await startServer('ours', 'fastify');
  try {
    const hit = await load(server, '/cached', SECONDS, 20);
    const withSwr = await load(server, '/expiring-swr', SECONDS, 20);
    const without = await load(server, '/expiring', SECONDS, 20);
    const gzip = await load(server, '/cached', SECONDS, 20, true, { 'accept-encoding': 'gzip' });
    return { hit, withSwr, without, gzip };
  } finally {
    await stop(server);
  }
}

/** Two instances, 100 concurrent requests each on one cold key (same Host), 200 ms handler. */
async function twoInstanceStampede(redis: RedisProcess, scenario: 'ours-redis-lock' | 'ours-redis-shared'): Promise<number> {
  const env = { REDIS_URL: redis.url, BENCH_SHARED_PREFIX: `bench-shared-${Date.now()}:` };
  const a = await startServer(scenario, 'fastify', env);
  const b = await startServer(scenario, 'fastify', env);
  try {
    await new Promise((r) => setTimeout(r, 300)); // connections and subscriptions in place
    const { request } = await import('node:http');
    const get = (server: Server, path: string) =>
      new Promise<string>((resolve, reject) => {
        const req = request(`${server.url}${path}`, { headers: { host: 'api.example.com' } }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end();
      });
    const key = `cold-${Date.now()}`;
    await Promise.all([a, b].flatMap((server) => Array.from({ length: 100 }, () => get(server, `/slow?k=${key}`))));
    const runs = async (server: Server) => (JSON.parse(await get(server, '/slow-runs')) as { runs: number }).runs;
    return (await runs(a)) + (await runs(b));
  } finally {
    await Promise.all([stop(a), stop(b)]);
  }
}

async function stampede(url: string): Promise<number> {
  const key = `cold-${Date.now()}`;
  await Promise.all(Array.from({ length: 100 }, () => fetch(`${url}/slow?k=${key}`).then((r) => r.text())));
  const { runs } = (await (await fetch(`${url}/slow-runs`)).json()) as { runs: number };
  return runs;
}

const CORE: Scenario[] = [
  { id: 'a', label: '(a) bare route, no interceptor', server: 'bare', path: '/bare' },
  { id: 'b', label: '(b) ResponseCache hit (memory)', server: 'ours', path: '/cached' },
  { id: 'lane', label: 'fast-lane hit (memory)', server: 'ours-lane', path: '/cached' },
  { id: 'bm', label: '(bm) ResponseCache hit (memory), Prometheus metrics on', server: 'ours-metrics', path: '/cached' },
  { id: 'c', label: '(c) undecorated route, our interceptor bound globally', server: 'ours-global', path: '/undecorated' },
  { id: 'c0', label: '(c0) undecorated route, a no-op global interceptor (Nest floor)', server: 'noop', path: '/bare' },
  { id: 'c1', label: '(c1) undecorated route, default binding (decorators bind it)', server: 'ours', path: '/undecorated' },
  { id: 'd', label: '(d) @nestjs/cache-manager CacheInterceptor hit (memory)', server: 'cache-manager', path: '/cache-manager' },
];

const STORES: Scenario[] = [
  { id: 'a', label: '(a) bare route, no interceptor', server: 'bare', path: '/bare' },
  { id: 'memory', label: 'ResponseCache hit, memory store', server: 'ours', path: '/cached' },
  { id: 'lane', label: 'fast-lane hit, memory store', server: 'ours-lane', path: '/cached' },
  { id: 'redis', label: 'ResponseCache hit, redis store', server: 'ours-redis', path: '/cached' },
  { id: 'lane-redis', label: 'fast-lane hit, redis store', server: 'ours-redis-lane', path: '/cached' },
  { id: 'tiered', label: 'ResponseCache hit, tiered store (L1)', server: 'ours-tiered', path: '/cached' },
  { id: 'lane-tiered', label: 'fast-lane hit, tiered store (L1)', server: 'ours-tiered-lane', path: '/cached' },
  { id: 'cm-redis', label: '@nestjs/cache-manager hit, Keyv Redis store', server: 'cache-manager-redis', path: '/cache-manager' },
];

/** p99 of a 20 ms cacheable route while Redis is SIGSTOPed, against the handler's own p99. */
async function whileRedisHangs(redis: RedisProcess) {
  const server = await startServer('ours-redis', 'fastify', { REDIS_URL: redis.url });
  try {
    const handler = await load(server, '/work?nocache=true', SECONDS, 20);
    await fetch(`${server.url}/work`).then((r) => r.text());
    redis.pause();
    const hung = await load(server, '/work', SECONDS, 20, false); // from the first request on
    redis.resume();
    return { handler, hung, timeoutMs: 100 };
  } finally {
    redis.resume();
    await stop(server);
  }
}

/**
 * Time from an invalidation acknowledged on instance A to instance B's L1 no longer holding the
 * entry (two tiered stores on one Redis, in this process).
 */
async function busPropagation(redis: RedisProcess, samples = 300) {
  const prefix = `bench-bus-${process.pid}:`;
  const clock = new ManualClock(Date.now());
  const make = async () => {
    const l2 = new RedisCacheStore({ client: createRedisClient({ url: redis.url }), prefix, ownsClient: true, clock });
    const store = new TieredCacheStore({ l2, subscriber: duplicateClient(l2.client), channel: `${prefix}bus`, clock });
    for (let i = 0; i < 500 && !store.trusted; i++) await new Promise((r) => setTimeout(r, 10));
    return store;
  };
  const a = await make();
  const b = await make();
  const delays: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const key = `k${i}`;
      const tags = ['t'];
      const fence = await a.snapshot(tags);
      const entry: CacheEntry = {
        status: 200,
        headers: {},
        body: 'x',
        etag: 'W/"x"',
        storedAt: clock.now(),
        expiresAt: clock.now() + 60_000,
        fence,
      };
      await a.set(key, entry, 60_000);
      await b.get(key, tags); // now in B's L1
      await a.invalidateTags(['t']);
      const acknowledged = performance.now();
      while ((await b.l1.get(key)) !== undefined) await new Promise((r) => setImmediate(r));
      delays.push(performance.now() - acknowledged);
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  const ms = (x: number) => Math.round(x * 1000) / 1000;
  return { samples, p50Ms: ms(percentile(delays, 50)), p99Ms: ms(percentile(delays, 99)), maxMs: ms(Math.max(...delays)) };
}

function table(rows: string[][]): string {
  const header = ['adapter', 'scenario', 'req/s', 'req/s vs (a)', 'server CPU µs/req', 'CPU capacity vs (a)', 'p50 ms', 'p99 ms'];
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** BENCH_SECTIONS=ceiling,core,stores,freshness,memory,database,edge (default: all). */
const SECTIONS = new Set(
  (process.env.BENCH_SECTIONS ?? 'ceiling,core,stores,freshness,memory,database,edge').split(',').map((x) => x.trim()),
);

/** The hit against the platform alone sending the same bytes (bench/platform-ceiling.ts). */
async function ceilings(): Promise<{ text: string; summary: Record<string, unknown> }> {
  const redis = await RedisProcess.start();
  const rows: string[][] = [];
  const summary: Record<string, unknown> = {};
  try {
    for (const adapter of ['fastify', 'express'] as Adapter[]) {
      const section = await ceilingSection({ startServer, stop, load, medianLoad, rounds: ROUNDS }, adapter, redis.url);
      rows.push(...section.rows);
      summary[adapter] = section.summary;
    }
  } finally {
    await redis.stop();
  }
  const header = [
    'adapter',
    'scenario',
    'server CPU µs/req',
    'ceiling CPU / row CPU: median [range] of the rounds',
    'req/s',
    'p50 ms',
    'p99 ms',
  ];
  const text = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  return { text, summary };
}
/** BENCH_DB_SECONDS: length of each database-load run (default 15). */
const DB_SECONDS = Number(process.env.BENCH_DB_SECONDS ?? 15);

/** What 10,000 cached 1.5 KB responses cost (a process of its own, with --expose-gc). */
function memoryPerEntry(): Promise<{
  entries: number;
  bytesStored: number;
  rssBytes: number;
  heapBytes: number;
  rssPerStoredByte: number;
  heapPerStoredByte: number;
}> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'memory-per-entry.js'), [], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`memory-per-entry exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    seconds: SECONDS,
    rounds: ROUNDS,
    connections: CONNECTIONS,
  };
  const ceiling = SECTIONS.has('ceiling') ? await ceilings() : undefined;
  if (ceiling !== undefined) results.ceiling = ceiling.summary;
  const coreRows: string[][] = [];
  const core: Record<string, unknown> = {};
  for (const adapter of SECTIONS.has('core') ? (['express', 'fastify'] as Adapter[]) : []) {
    const { servers, summary, rows } = await section(adapter, CORE);
    const e = await stampede(servers.get('ours')!.url);
    await stopAll(servers);
    coreRows.push(...rows, [adapter, '(e) 100 concurrent requests on a cold key, 200 ms handler', `handler ran ${e}×`, '', '', '', '', '']);
    core[adapter] = { ...summary, stampede100ColdHandlerRuns: e };
  }
  if (SECTIONS.has('core')) results.core = core;

  const fresh = SECTIONS.has('freshness') ? await expiring() : undefined;
  if (fresh !== undefined) results.freshness = fresh;
  const freshLines =
    fresh === undefined
      ? []
      : [
          `200 ms handler, 0.2 s TTL expiring all through the run (Fastify, 20 connections): with stale-while-revalidate p99 ${fresh.withSwr.p99} ms (max ${fresh.withSwr.max}), without p99 ${fresh.without.p99} ms (max ${fresh.without.max}); a hit: p99 ${fresh.hit.p99} ms (target: SWR within 2× the hit p99 = ${2 * fresh.hit.p99} ms)`,
          `bytes per hit of the 1.5 KB route: ${fresh.gzip.bytesPerRequest} with compressed hits (Accept-Encoding: gzip), ${fresh.hit.bytesPerRequest} without`,
        ];

  let memoryLine = '';
  if (SECTIONS.has('memory')) {
    const m = await memoryPerEntry();
    results.memoryPerEntry = m;
    const mb = (x: number) => (x / 1024 / 1024).toFixed(1);
    memoryLine = `memory for ${m.entries} cached 1.5 KB responses (memory store, through the app): heap after GC +${mb(m.heapBytes)} MB (${m.heapPerStoredByte}× the ${mb(m.bytesStored)} MB stored, bodies and gzip copies), RSS +${mb(m.rssBytes)} MB (${m.rssPerStoredByte}×) (target ≤ 2×)`;
  }

  let storesTable = '';
  let hangLine = '';
  let busLine = '';
  let leaseLine = '';
  if (SECTIONS.has('stores')) {
    const redis = await RedisProcess.start(['--maxmemory', '512mb', '--maxmemory-policy', 'volatile-lru']);
    try {
      const storeRows: string[][] = [];
      const storeResults: Record<string, unknown> = {};
      for (const adapter of ['express', 'fastify'] as Adapter[]) {
        const stores = await section(adapter, STORES, { REDIS_URL: redis.url });
        await stopAll(stores.servers);
        storeResults[adapter] = stores.summary;
        storeRows.push(...stores.rows);
      }
      results.stores = storeResults;
      storesTable = table(storeRows);

      const hang = await whileRedisHangs(redis);
      results.whileRedisHangs = hang;
      const budget = hang.handler.p99 + hang.timeoutMs + 10;
      hangLine = `p99 of a 20 ms route while Redis is SIGSTOPed: ${hang.hung.p99} ms (handler alone: p99 ${hang.handler.p99} ms; budget handler p99 + CACHE_OP_TIMEOUT_MS ${hang.timeoutMs} + 10 = ${budget} ms; ${hang.hung.errors + hang.hung.non2xx} failed requests)`;

      const bus = await busPropagation(redis);
      results.busPropagation = bus;
      busLine = `tiered: invalidation acknowledged on A → gone from B's L1: p50 ${bus.p50Ms} ms, p99 ${bus.p99Ms} ms, max ${bus.maxMs} ms over ${bus.samples} invalidations`;

      const withLease = await twoInstanceStampede(redis, 'ours-redis-lock');
      const withoutLease = await twoInstanceStampede(redis, 'ours-redis-shared');
      results.twoInstanceStampede = { withLease, withoutLease };
      leaseLine = `two instances, 100 concurrent cold requests each, 200 ms handler: the handler ran ${withLease}× with the Redis lease, ${withoutLease}× without (target with the lease: ≤ 2)`;
    } finally {
      await redis.stop();
    }
  }

  let databaseTable = '';
  if (SECTIONS.has('database')) {
    const loads: DatabaseLoad[] = [];
    for (const writeShare of [0.1, 0.01]) {
      for (const mode of ['off', 'memory', 'redis', 'tiered'] as Mode[]) loads.push(await databaseLoad(mode, writeShare, DB_SECONDS, 32));
    }
    results.database = loads;
    databaseTable = [
      '| writes | cache | req/s | × off | p50 ms | p99 ms | hit ratio (reads) | queries / 1,000 req (demo counter) | transactions / 1,000 req (pg_stat_database) | demo CPU µs/req | errors |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...loads.map((l) => {
        const off = loads.find((o) => o.mode === 'off' && o.writeShare === l.writeShare)!;
        return `| ${l.writeShare * 100} % | ${l.mode} | ${l.rps} | ${(l.rps / off.rps).toFixed(2)} | ${l.p50Ms} | ${l.p99Ms} | ${(l.hitRatio * 100).toFixed(1)} % | ${l.queriesPer1000} | ${l.pgTransactionsPer1000} | ${l.cpuUsPerRequest} | ${l.errors} |`;
      }),
    ].join('\n');
  }

  let edgeTable = '';
  if (SECTIONS.has('edge')) {
    const loads: DatabaseLoad[] = [];
    for (const writeShare of [0.1, 0.01]) loads.push(await databaseLoad('varnish', writeShare, DB_SECONDS, 32));
    results.edge = loads;
    edgeTable = [
      '| writes | setup | req/s | p50 ms | p99 ms | hit ratio at the edge (reads) | hit ratio, edge or app (reads) | requests that reached Node / 1,000 | queries / 1,000 req | errors |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...loads.map(
        (l) =>
          `| ${l.writeShare * 100} % | demo (memory store) behind Varnish | ${l.rps} | ${l.p50Ms} | ${l.p99Ms} | ${((l.edgeHitRatio ?? 0) * 100).toFixed(1)} % | ${(l.hitRatio * 100).toFixed(1)} % | ${l.reachedNodePer1000} | ${l.queriesPer1000} | ${l.errors} |`,
      ),
    ].join('\n');
  }

  const text = [
    'Against the platform (server CPU per request; the ratio is the ceiling’s over the row’s):',
    '',
    ceiling?.text ?? '',
    '',
    table(coreRows),
    '',
    `(median of ${ROUNDS} interleaved rounds of ${SECONDS} s, ${CONNECTIONS} connections, ${process.version})`,
    '',
    'Stores (a local redis-server):',
    '',
    storesTable,
    '',
    hangLine,
    busLine,
    leaseLine,
    '',
    'Freshness and compression:',
    '',
    ...freshLines,
    '',
    memoryLine,
    '',
    `Database load (the demo on PostgreSQL, reads over Zipf ids with 10 % and 1 % writes, 32 connections, ${DB_SECONDS} s each):`,
    '',
    databaseTable,
    '',
    `The edge (the same mix through Varnish with deploy/varnish/default.vcl, the demo purging it by tag, 32 connections, ${DB_SECONDS} s each):`,
    '',
    edgeTable,
  ].join('\n');
  process.stdout.write(`\n${text}\n`);
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  // Sections not run this time keep the figures of their last run.
  const file = join(dir, 'latest.json');
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const texts = { ...(previous.texts as Record<string, string> | undefined), [[...SECTIONS].join(',')]: text };
  delete previous.text;
  writeFileSync(file, `${JSON.stringify({ ...previous, ...results, texts }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
