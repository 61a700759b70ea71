import { freePort } from '../../test/support/redis-harness';
import { VarnishProcess } from '../../test/support/varnish-harness';
import { ADMIN_URL, createDatabase, dropDatabase } from '../../test/support/postgres';
import { DemoProcess } from './demo-process';
import { RunEvent, explainRun } from './explain';
import { checkHistory, percentile } from './history';
import { Store, startTopology } from './topology';
import { runWorkload } from './workload';
import { WriteGate } from './write-gate';

export type { Store } from './topology';

export interface ConsistencyOptions {
  store: Store;
  instances: number;
  durationMs: number;
  maxOperations: number;
  writers: number;
  readers: number;
  writerPauseMs: number;
  /**
   * The store's fault schedule (topology.ts): a standalone Redis paused (SIGSTOP) at a third of
   * the run and killed at two thirds, each for `faultMs`; Sentinel and Cluster fail over twice,
   * losing the writes of faultMs / 2 on the replica that is promoted.
   */
  faults: boolean;
  faultMs: number;
  /** How long after an acknowledged write an instance may still answer the replaced data (the tiered store's bus). */
  allowanceMs: number;
  /** Server on which the run's database is made (and dropped). */
  postgresUrl: string;
  /**
   * `varnish`: a Varnish (deploy/varnish/default.vcl) in front of each instance, every instance
   * purging all of them (CACHE_EDGE=varnish); readers and writers go through the Varnishes.
   */
  edge?: 'varnish';
  /** REDIS_WAIT_REPLICAS of the demo processes (WAIT after each invalidation); 0 is off. */
  waitReplicas?: number;
  log?: (line: string) => void;
}

export interface ConsistencyReport {
  store: Store;
  operations: number;
  observations: number;
  /** Reads answered from the cache, of all reads that got an answer. */
  hitRatio: number;
  violations: number;
  failed: number;
  /** Reads that returned replaced data inside the allowance, and how late they were. */
  staleWithinAllowance: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** Reads the edge answered itself, of all reads that got an answer (0 without an edge). */
  edgeHitRatio: number;
  edge?: 'varnish';
  /** Failovers the fault schedule made (Sentinel, Cluster). */
  failovers: number;
  /** Acknowledged writes: how long they took, median and 99th percentile (ms). */
  writeP50Ms: number;
  writeP99Ms: number;
  examples: string[];
  /** With violations: each in full (the read, the writes), then the fault steps and the instances' log lines, in the run's time. */
  details: string[];
}

/** The documented propagation window of the tiered store (docs/consistency.md). */
export const TIERED_WINDOW_MS = 100;

/**
 * The documented purge window of the edge (README, docs/edge.md): the purge is sent before the
 * write answers, and again `repurgeAfterMs` (2 s) later for responses that were on their way to
 * the edge during the first; this window adds the second purge's own time.
 */
export const EDGE_WINDOW_MS = 2_500;

export const DEFAULTS: Omit<ConsistencyOptions, 'store'> = {
  instances: 3,
  durationMs: 20_000,
  maxOperations: 50_000,
  writers: 2,
  readers: 9,
  writerPauseMs: 150,
  faults: true,
  faultMs: 2_000,
  allowanceMs: 0,
  postgresUrl: ADMIN_URL,
};

/** One run: a database, a Redis, N demo processes on them, the workload with its faults, and the check. */
export async function checkConsistency(options: ConsistencyOptions): Promise<ConsistencyReport> {
  const log = options.log ?? (() => undefined);
  const databaseUrl = await createDatabase('rc_consistency', options.postgresUrl);
  const redis = await startTopology(options.store);
  const demos: DemoProcess[] = [];
  const varnishes: VarnishProcess[] = [];
  try {
    const edgePorts = options.edge === undefined ? [] : await Promise.all(Array.from({ length: options.instances }, () => freePort()));
    const env: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      ...redis.env,
      CACHE_KEY_PREFIX: 'cc:',
      REDIS_WAIT_REPLICAS: String(options.waitReplicas ?? 0),
    };
    if (options.edge !== undefined) {
      env.CACHE_EDGE = options.edge;
      env.VARNISH_URLS = edgePorts.map((port) => `http://127.0.0.1:${port}`).join(',');
    }
    // The first instance migrates and seeds; the others start together on the seeded database.
    demos.push(await DemoProcess.start({ ...env, HTTP_ADAPTER: 'express' }));
    const more = Array.from({ length: options.instances - 1 }, (_, i) =>
      DemoProcess.start({ ...env, HTTP_ADAPTER: i % 2 === 0 ? 'fastify' : 'express' }),
    );
    demos.push(...(await Promise.all(more)));
    log(`${options.store}: ${demos.length} demo processes on ${redis.describe} and a database of their own`);
    // Only with --edge: without it the instances purge no edge, and readers go to them directly.
    for (const [i, port] of edgePorts.entries()) {
      varnishes.push(await VarnishProcess.start(Number(new URL(demos[i].url).port), 'default.vcl', port));
    }
    if (varnishes.length > 0) log(`${options.store}: a Varnish in front of each, every instance purging all of them`);
    const entries = varnishes.length > 0 ? varnishes.map((v) => v.url) : demos.map((d) => d.url);
    const began = performance.now();
    const gate = new WriteGate();
    const events: RunEvent[] = [];
    const faultLog = (line: string) => {
      events.push({ at: performance.now(), source: 'faults', text: line });
      log(`${line} (${(performance.now() - began).toFixed(0)} ms into the run)`);
    };
    const faults = options.faults
      ? redis.faults({
          durationMs: options.durationMs,
          faultMs: options.faultMs,
          log: faultLog,
          gate,
          instancesUp: () => everyCacheUp(demos),
        })
      : Promise.resolve(0);
    void faults.finally(() => gate.open()).catch(() => undefined); // never leave the writers held
    const workload = await runWorkload({ ...options, instances: entries, gate });
    const failovers = await faults;
    const writeMs = workload.writes.filter((w) => w.acknowledged).map((w) => w.end - w.start);
    const verdict = checkHistory(workload.writes, workload.reads, options.allowanceMs);
    const inside = verdict.lagsMs.filter((lag) => lag <= options.allowanceMs);
    for (const [i, demo] of demos.entries()) {
      events.push(...demo.lines.filter((l) => l.at >= began).map((l) => ({ at: l.at, source: `instance ${i}`, text: l.text })));
    }
    return {
      store: options.store,
      operations: workload.operations,
      observations: verdict.observations,
      hitRatio: workload.reads.length === 0 ? 0 : workload.cacheHits / workload.reads.length,
      violations: verdict.violations.length,
      failed: workload.failed,
      staleWithinAllowance: inside.length,
      lagP50Ms: percentile(verdict.lagsMs, 50),
      lagP99Ms: percentile(verdict.lagsMs, 99),
      edgeHitRatio: workload.reads.length === 0 ? 0 : workload.edgeHits / workload.reads.length,
      edge: options.edge,
      // (a loop: a run without purges has more stale observations than a spread takes as arguments)
      lagMaxMs: verdict.lagsMs.reduce((max, lag) => Math.max(max, lag), 0),
      failovers,
      writeP50Ms: percentile(writeMs, 50),
      writeP99Ms: percentile(writeMs, 99),
      examples: verdict.violations
        .slice(0, 5)
        .map(
          (v) =>
            `post ${v.key} read as ${JSON.stringify(v.value)} on instance ${v.instance} at ${(v.readStart - began).toFixed(0)} ms ` +
            `into the run, ${v.lagMs.toFixed(1)} ms after it was replaced`,
        ),
      details: explainRun(verdict, workload.writes, workload.reads, events, began),
    };
  } finally {
    await Promise.all(varnishes.map((varnish) => varnish.stop()));
    await Promise.all(demos.map((demo) => demo.stop()));
    await redis.stop();
    await dropDatabase(databaseUrl, options.postgresUrl);
  }
}

/** Resolves once every demo's `/health/ready` reports its cache store up (or after 20 s). */
async function everyCacheUp(demos: DemoProcess[]): Promise<void> {
  const deadline = performance.now() + 20_000;
  const up = async (demo: DemoProcess) => {
    const answer = await fetch(`${demo.url}/health/ready`, { signal: AbortSignal.timeout(1_000) }).then(
      (res) => res.json() as Promise<{ details?: { cache?: { status?: string } } }>,
      () => undefined,
    );
    return answer?.details?.cache?.status === 'up';
  };
  while (performance.now() < deadline && !(await Promise.all(demos.map(up))).every(Boolean)) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The line the issue asks for, one per store. */
export function summaryLine(report: ConsistencyReport): string {
  const through = report.edge === undefined ? '' : `, readers through ${report.edge}`;
  return `consistency: ${report.operations} operations, ${report.violations} violations, ${report.failed} failed requests (${report.store} store${through})`;
}
