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
  return {
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpuUs: Math.round((cpu / r.requests.total) * 10) / 10,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

async function stampede(url: string): Promise<number> {
  const key = `cold-${Date.now()}`;
  await Promise.all(Array.from({ length: 100 }, () => fetch(`${url}/slow?k=${key}`).then((r) => r.text())));
  const { runs } = (await (await fetch(`${url}/slow-runs`)).json()) as { runs: number };
  return runs;
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median of each field over the rounds. */
function medianLoad(loads: Load[]): Load {
  const pick = (field: keyof Load) => median(loads.map((l) => l[field]));
  return {
    rps: pick('rps'),
    p50: pick('p50'),
    p99: pick('p99'),
    cpuUs: pick('cpuUs'),
    errors: loads.reduce((n, l) => n + l.errors, 0),
    non2xx: loads.reduce((n, l) => n + l.non2xx, 0),
  };
}

interface Scenario {
  id: 'a' | 'b' | 'c' | 'c0' | 'c1' | 'd';
  label: string;
  server: string;
  path: string;
}

const SCENARIOS: Scenario[] = [
  { id: 'a', label: '(a) bare route, no interceptor', server: 'bare', path: '/bare' },
  { id: 'b', label: '(b) ResponseCache hit', server: 'ours', path: '/cached' },
  { id: 'c', label: '(c) undecorated route, our interceptor bound globally', server: 'ours-global', path: '/undecorated' },
  { id: 'c0', label: '(c0) undecorated route, a no-op global interceptor (Nest floor)', server: 'noop', path: '/bare' },
  { id: 'c1', label: '(c1) undecorated route, default binding (decorators bind it)', server: 'ours', path: '/undecorated' },
  { id: 'd', label: '(d) @nestjs/cache-manager CacheInterceptor hit', server: 'cache-manager', path: '/cache-manager' },
];

async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    seconds: SECONDS,
    rounds: ROUNDS,
    connections: CONNECTIONS,
    adapters: {},
  };
  const rows: string[][] = [];
  for (const adapter of ['express', 'fastify'] as Adapter[]) {
    // All servers start first; the runs then interleave, round by round, so that drift in
    // the machine's load touches every scenario alike. Each figure is the median of the rounds.
    const servers = new Map<string, Server>();
    for (const name of new Set(SCENARIOS.map((s) => s.server))) servers.set(name, await startServer(name, adapter));
    const runs = new Map<string, Load[]>(SCENARIOS.map((s) => [s.id, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const scenario of SCENARIOS) runs.get(scenario.id)!.push(await load(servers.get(scenario.server)!, scenario.path));
    }
    const e = await stampede(servers.get('ours')!.url);
    for (const server of servers.values()) await stop(server);

    const a = medianLoad(runs.get('a')!);
    const round2 = (x: number) => Math.round(x * 100) / 100;
    const summary: Record<string, unknown> = { stampede100ColdHandlerRuns: e };
    for (const scenario of SCENARIOS) {
      const x = medianLoad(runs.get(scenario.id)!);
      const rpsVsBare = round2(x.rps / a.rps);
      const cpuCapacityVsBare = round2(a.cpuUs / x.cpuUs);
      summary[scenario.id] = { label: scenario.label, ...x, rpsVsBare, cpuCapacityVsBare, rounds: runs.get(scenario.id) };
      rows.push([
        adapter,
        scenario.label,
        String(x.rps),
        rpsVsBare.toFixed(2),
        String(x.cpuUs),
        cpuCapacityVsBare.toFixed(2),
        String(x.p50),
        String(x.p99),
      ]);
    }
    rows.push([adapter, '(e) 100 concurrent requests on a cold key, 200 ms handler', `handler ran ${e}×`, '', '', '', '', '']);
    (results.adapters as Record<string, unknown>)[adapter] = summary;
  }
  const header = ['adapter', 'scenario', 'req/s', 'req/s vs (a)', 'server CPU µs/req', 'CPU capacity vs (a)', 'p50 ms', 'p99 ms'];
  const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
  process.stdout.write(
    `\n${table}\n\n(median of ${ROUNDS} interleaved rounds of ${SECONDS} s, ${CONNECTIONS} connections, ${process.version})\n`,
  );
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify({ ...results, table }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
