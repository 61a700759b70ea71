import { DEFAULTS, EDGE_WINDOW_MS, Store, TIERED_WINDOW_MS, checkConsistency, summaryLine } from './run';
import { STORES } from './topology';

/**
 * `npm run check:consistency [-- --duration-ms N --instances N --stores redis,tiered,redis-sentinel,redis-cluster --no-faults --wait-replicas N --edge varnish]`
 * (`--stores memory` shows a failing check: memory stores are not shared):
 * several demo processes on one PostgreSQL and one Redis, concurrent writers and readers, Redis
 * paused and killed in the middle; prints one line per store and exits 1 on any violation.
 */
function argument(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
}

function count(name: string, fallback: number, min: number, max: number): number {
  const raw = argument(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}`);
  return value;
}

async function main(): Promise<void> {
  const stores = (argument('stores') ?? 'redis,tiered').split(',') as Store[];
  for (const store of stores) {
    if (!STORES.includes(store)) throw new Error(`--stores: "${store}" is not one of ${STORES.join(', ')}`);
  }
  const edge = argument('edge');
  if (edge !== undefined && edge !== 'varnish') throw new Error(`--edge: "${edge}" is not varnish`);
  const options = {
    ...DEFAULTS,
    durationMs: count('duration-ms', DEFAULTS.durationMs, 3_000, 600_000),
    instances: count('instances', DEFAULTS.instances, 2, 8),
    maxOperations: count('max-operations', DEFAULTS.maxOperations, 100, 10_000_000),
    faults: !process.argv.includes('--no-faults'),
    waitReplicas: count('wait-replicas', 0, 0, 16),
    postgresUrl: process.env.CONSISTENCY_POSTGRES_URL?.trim() || DEFAULTS.postgresUrl,
    log: (line: string) => console.log(line),
    ...(edge === undefined ? {} : { edge: 'varnish' as const }),
  };
  const reports = [];
  for (const store of stores) {
    const allowanceMs = edge !== undefined ? EDGE_WINDOW_MS : store === 'tiered' ? TIERED_WINDOW_MS : 0;
    const report = await checkConsistency({ ...options, store, allowanceMs });
    reports.push(report);
    console.log(
      `${store}: ${report.observations} read observations checked, ${(report.hitRatio * 100).toFixed(0)} % of reads from the cache; replaced data returned ${report.staleWithinAllowance} times ` +
        `inside the ${allowanceMs} ms window (lag p99 ${report.lagP99Ms.toFixed(1)} ms, max ${report.lagMaxMs.toFixed(1)} ms)`,
    );
    console.log(
      `${store}: ${report.failovers} failovers; acknowledged writes took ${report.writeP50Ms.toFixed(1)} ms (p50), ${report.writeP99Ms.toFixed(1)} ms (p99)` +
        (options.waitReplicas > 0 ? ` with WAIT ${options.waitReplicas} replica(s)` : ''),
    );
    if (report.edge !== undefined) {
      console.log(
        `${store}: through ${report.edge}: ${(report.edgeHitRatio * 100).toFixed(0)} % of reads answered by the edge; purge window ` +
          `(acknowledged write to the edge serving new data, ${report.staleWithinAllowance} stale reads): p50 ${report.lagP50Ms.toFixed(1)} ms, ` +
          `p99 ${report.lagP99Ms.toFixed(1)} ms, max ${report.lagMaxMs.toFixed(1)} ms (documented: ${allowanceMs} ms)`,
      );
    }
    for (const example of report.examples) console.log(`${store}: violation: ${example}`);
    for (const line of report.details) console.log(`${store}: ${line}`);
  }
  for (const report of reports) console.log(summaryLine(report));
  process.exit(reports.every((report) => report.violations === 0) ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
});
