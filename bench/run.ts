/**
 * `npm run bench`: the benchmark suite (not part of `npm test`). Prints a table and writes
 * bench/results/latest.json. Every figure is compared with the bare route measured in the same
 * run, since the machines are shared and noisy. BENCH_SECONDS sets each run's length (default 5).
 */
import autocannon from 'autocannon';
import { ChildProcess, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Adapter = 'express' | 'fastify';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

interface Server {
  url: string;
  child: ChildProcess;
}

function startServer(scenario: string, adapter: Adapter): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'server.js'), [scenario, adapter], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
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

async function load(server: Server, path: string): Promise<Load> {
  const url = `${server.url}${path}`;
  await autocannon({ url, connections: CONNECTIONS, duration: 1 }); // warm-up (fills the cache, JIT)
  const before = await cpuOf(server);
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS });
  const after = await cpuOf(server);
  const cpu = after.user - before.user + (after.system - before.system);
  return { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, cpuUs: Math.round((cpu / r.requests.total) * 10) / 10, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

async function stampede(url: string): Promise<number> {
  const key = `cold-${Date.now()}`;
  await Promise.all(Array.from({ length: 100 }, () => fetch(`${url}/slow?k=${key}`).then((r) => r.text())));
  const { runs } = (await (await fetch(`${url}/slow-runs`)).json()) as { runs: number };
  return runs;
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, seconds: SECONDS, connections: CONNECTIONS, adapters: {} };
  const rows: string[][] = [];
  for (const adapter of ['express', 'fastify'] as Adapter[]) {
    const bare = await startServer('bare', adapter);
    const a = await load(bare, '/bare');
    await stop(bare);
    const ours = await startServer('ours', adapter);
    const b = await load(ours, '/cached');
    const c = await load(ours, '/undecorated');
    const e = await stampede(ours.url);
    await stop(ours);
    const noop = await startServer('noop', adapter);
    const n = await load(noop, '/bare');
    await stop(noop);
    const cm = await startServer('cache-manager', adapter);
    const d = await load(cm, '/cache-manager');
    await stop(cm);
    const round = (x: number) => Math.round(x * 100) / 100;
    const measured = (x: Load) => ({ ...x, rpsVsBare: round(x.rps / a.rps), cpuCapacityVsBare: round(a.cpuUs / x.cpuUs) });
    (results.adapters as Record<string, unknown>)[adapter] = {
      bare: a,
      ourHit: measured(b),
      undecoratedUnderGlobalInterceptor: measured(c),
      noopGlobalInterceptor: measured(n),
      nestjsCacheManagerHit: measured(d),
      stampede100ColdHandlerRuns: e,
    };
    const row = (label: string, x: Load) => {
      const m = measured(x);
      rows.push([adapter, label, String(x.rps), m.rpsVsBare.toFixed(2), String(x.cpuUs), m.cpuCapacityVsBare.toFixed(2), String(x.p50), String(x.p99)]);
    };
    row('(a) bare route', a);
    row('(b) ResponseCache hit', b);
    row('(c) undecorated route, our global interceptor', c);
    row('(c0) same, a no-op global interceptor (Nest floor)', n);
    row('(d) @nestjs/cache-manager hit', d);
    rows.push([adapter, '(e) 100 concurrent cold requests, 200 ms handler', `handler ran ${e}×`, '', '', '', '', '']);
  }
  const header = ['adapter', 'scenario', 'req/s', 'req/s vs (a)', 'server CPU µs/req', 'CPU capacity vs (a)', 'p50 ms', 'p99 ms'];
  const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  process.stdout.write(`\n${table}\n\n(${SECONDS}s per run, ${CONNECTIONS} connections, ${process.version})\n`);
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify({ ...results, table }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
