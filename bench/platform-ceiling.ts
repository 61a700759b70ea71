/**
 * The `ceiling` section: a hit against the plain platform sending the very same bytes. A lane hit
 * is captured from a running app; the ceiling servers (bench/ceiling.ts) replay its status, headers
 * and body, which is checked before anything is measured. Server CPU per request is the figure;
 * each ratio is the ceiling's CPU per request over the row's (1.0: as cheap as the platform alone),
 * taken per round (the two measured within a round) and reported as the median [lowest–highest].
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CapturedHit } from './ceiling';

type Adapter = 'express' | 'fastify';

interface Load {
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
}

/** What the section needs of the runner (bench/run.ts). */
export interface Runner<S extends { url: string }> {
  startServer(scenario: string, adapter: Adapter, env?: Record<string, string>): Promise<S>;
  stop(server: S): Promise<void>;
  load(server: S, path: string): Promise<Load>;
  medianLoad(loads: Load[]): Load;
  rounds: number;
}

interface Row {
  id: string;
  label: string;
  server: string;
  /** The row its ratio is taken against. */
  against: string;
  /** Issue #21's target for the ratio (none: the ratio is reported only). */
  target?: number;
  path?: string;
}

const ROWS: Row[] = [
  { id: 'ceiling', label: 'ceiling: plain platform, the hit’s bytes from memory', server: 'ceiling', against: 'ceiling' },
  { id: 'lane', label: 'fast-lane hit, memory store', server: 'ours-lane', against: 'ceiling', target: 0.85 },
  // The same Nest app with the lane's hook sending the hit's bytes: Nest's adapter, no cache work (bench/lane-floor.ts).
  {
    id: 'lane-floor',
    label: 'floor of the lane in Nest: its hook sends the hit’s bytes, no cache work',
    server: 'lane-floor',
    against: 'ceiling',
  },
  { id: 'lane-vs-floor', label: 'fast-lane hit, memory store, vs the lane’s floor', server: 'ours-lane', against: 'lane-floor' },
  // The floor of a lane that answers after routing (issue #19): the plain platform's route handler.
  {
    id: 'ceiling-routed',
    label: 'ceiling after routing: a plain route handler, the hit’s bytes',
    server: 'ceiling-routed',
    against: 'ceiling-routed',
  },
  {
    id: 'lane-vs-routed',
    label: 'fast-lane hit, memory store, vs the routed ceiling',
    server: 'ours-lane',
    against: 'ceiling-routed',
    target: 0.85,
  },
  { id: 'lane-tiered', label: 'fast-lane hit, tiered store (L1)', server: 'ours-tiered-lane', against: 'ceiling', target: 0.85 },
  {
    id: 'ceiling-redis',
    label: 'ceiling: plain platform, one ioredis GET of the hit’s bytes',
    server: 'ceiling-redis',
    against: 'ceiling-redis',
  },
  { id: 'lane-redis', label: 'fast-lane hit, Redis store', server: 'ours-redis-lane', against: 'ceiling-redis', target: 0.7 },
  { id: 'bare', label: 'bare Nest route (no interceptor)', server: 'bare', against: 'bare', path: '/bare' },
  { id: 'interceptor', label: 'interceptor hit, memory store (lane off)', server: 'ours', against: 'bare', target: 1 },
];

/** Headers the platform writes for each response (not the hit's): left out of the capture. */
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);
/** Headers of the hit whose values change with time: the ceilings send the captured value, compared by name only. */
const TIMED = new Set(['age', 'cache-status']);

function get(url: string): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (!TRANSPORT.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
        }
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Throws unless `url` answers exactly `hit` (but for the per-response headers). */
async function assertSame(url: string, hit: CapturedHit, what: string): Promise<void> {
  const got = await get(url);
  const untimed = (headers: Record<string, string>) =>
    Object.fromEntries(Object.entries(headers).map(([n, v]) => [n, TIMED.has(n) ? '…' : v]));
  const expected = JSON.stringify({ status: hit.status, headers: untimed(hit.headers), body: hit.body });
  const actual = JSON.stringify({ status: got.status, headers: untimed(got.headers), body: got.body.toString('base64') });
  if (actual !== expected) throw new Error(`the ${what} does not send the hit's bytes:\n${actual}\n!=\n${expected}`);
}

export async function ceilingSection<S extends { url: string }>(
  runner: Runner<S>,
  adapter: Adapter,
  redisUrl: string,
): Promise<{ rows: string[][]; summary: Record<string, unknown> }> {
  const env = { REDIS_URL: redisUrl };
  // The hit to replay: a fast-lane hit of the memory store (the second request of /cached).
  const lane = await runner.startServer('ours-lane', adapter, env);
  await get(`${lane.url}/cached`);
  const captured = await get(`${lane.url}/cached`);
  if (captured.headers['x-cache'] !== 'HIT') throw new Error(`no hit to capture (X-Cache ${captured.headers['x-cache']})`);
  const hit: CapturedHit = { status: captured.status, headers: captured.headers, body: captured.body.toString('base64') };
  const file = join(mkdtempSync(join(tmpdir(), 'rc-ceiling-')), 'hit.json');
  writeFileSync(file, JSON.stringify(hit));
  const servers = new Map<string, S>([['ours-lane', lane]]);
  for (const row of ROWS) {
    if (!servers.has(row.server))
      servers.set(row.server, await runner.startServer(row.server, adapter, { ...env, BENCH_CEILING_HIT: file }));
  }
  try {
    await assertSame(`${servers.get('ceiling')!.url}/cached`, hit, 'memory ceiling');
    await assertSame(`${servers.get('ceiling-redis')!.url}/cached`, hit, 'Redis ceiling');
    await assertSame(`${servers.get('ceiling-routed')!.url}/cached`, hit, 'routed ceiling');
    await assertSame(`${servers.get('lane-floor')!.url}/cached`, hit, 'lane floor');
    await assertSame(`${lane.url}/cached`, hit, 'fast lane (a second hit)');
    const runs = new Map<string, Load[]>(ROWS.map((r) => [r.id, []]));
    for (let round = 0; round < runner.rounds; round++) {
      for (const row of ROWS) runs.get(row.id)!.push(await runner.load(servers.get(row.server)!, row.path ?? '/cached'));
    }
    const medians = new Map([...runs].map(([id, loads]) => [id, runner.medianLoad(loads)]));
    const rows: string[][] = [];
    const summary: Record<string, unknown> = {};
    for (const row of ROWS) {
      const x = medians.get(row.id)!;
      // Paired: the ratio of each round (the two measured minutes apart at most), then their median and range.
      const ratios = runs
        .get(row.id)!
        .map((load, round) => runs.get(row.against)![round].cpuUs / load.cpuUs)
        .sort((a, b) => a - b);
      const ratio = round2(ratios[Math.floor(ratios.length / 2)]);
      const range = [round2(ratios[0]), round2(ratios[ratios.length - 1])];
      summary[row.id] = { label: row.label, ...x, against: row.against, cpuRatio: ratio, cpuRatioRange: range, target: row.target };
      const spread = ratios.length > 1 ? ` [${range[0].toFixed(2)}–${range[1].toFixed(2)}]` : '';
      const verdict =
        row.against === row.id ? '' : `${ratio.toFixed(2)}${spread}${row.target === undefined ? '' : ` (target ≥ ${row.target})`}`;
      rows.push([adapter, row.label, String(x.cpuUs), verdict, String(x.rps), String(x.p50), String(x.p99)]);
    }
    return { rows, summary };
  } finally {
    for (const server of servers.values()) await runner.stop(server);
  }
}
