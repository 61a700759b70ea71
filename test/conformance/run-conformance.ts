/**
 * `npm run test:conformance`: the public HTTP cache test suite (npm `http-cache-tests`, the suite of
 * cache-tests.fyi) run through a route of this cache that proxies to the suite's own origin server,
 * on Express and on Fastify, with `freshness: 'response'`. Prints pass/fail per suite, and exits 1
 * on any failing required test that is not on the reasoned not-applicable list
 * (test/conformance/not-applicable.json), or when fewer optimal tests pass than Varnish passes on
 * the same ids (the package ships its results).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '../support/redis-harness';
import { startProxy } from './proxy-app';

const SUITES = [
  'cc-freshness',
  'age-parse',
  'expires',
  'cc-response',
  'stale',
  'status',
  'vary',
  'vary-parse',
  'conditional-lm',
  'conditional-inm',
  'headers',
  'invalidation',
  'auth',
  'method',
];

interface SuiteTest {
  id: string;
  name: string;
  kind?: 'required' | 'optimal' | 'check';
  depends_on?: string[];
  browser_only?: boolean;
}
interface Suite {
  id: string;
  name: string;
  tests: SuiteTest[];
}
type Result = true | [string, string] | undefined;

const packageDir = dirname(require.resolve('http-cache-tests/package.json'));
const notApplicable = JSON.parse(
  readFileSync(join(__dirname, '..', '..', '..', 'test', 'conformance', 'not-applicable.json'), 'utf8'),
) as Record<string, string>;

async function load<T>(file: string): Promise<T> {
  const specifier: string = join(packageDir, file);
  return (await import(specifier)) as T;
}

async function startOrigin(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(packageDir, 'server', 'server.mjs')], {
    cwd: packageDir,
    env: {
      ...process.env,
      npm_config_protocol: 'http',
      npm_config_port: String(port),
      npm_config_pidfile: join(mkdtempSync(join(tmpdir(), 'cache-tests-')), 'pid'),
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the cache-tests origin did not start')), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

/** One run of the selected suites against `base`; the runner module keeps results per process, so each run is a fresh import. */
async function runSuites(suites: Suite[], base: string): Promise<Record<string, Result>> {
  // The harness keeps results in a module of its own: empty it, so that one process runs it twice.
  const state = await load<{ testResults: Record<string, unknown>; testUUIDs: Record<string, unknown> }>('client/test.mjs');
  for (const id of Object.keys(state.testResults)) delete state.testResults[id];
  for (const id of Object.keys(state.testUUIDs)) delete state.testUUIDs[id];
  const runner = await load<{
    runTests: (t: Suite[], f: typeof fetch, b: boolean, base: string) => Promise<void>;
    getResults: () => Record<string, Result>;
  }>(`client/runner.mjs?run=${Math.random()}`);
  await runner.runTests(suites, fetch, false, base);
  return runner.getResults();
}

function passed(result: Result): boolean {
  return result === true;
}

export async function main(): Promise<number> {
  const all = (await load<{ default: Suite[] }>('tests/index.mjs')).default;
  // CONFORMANCE_SUITES / CONFORMANCE_ADAPTERS (comma-separated) narrow a run down, to look into one.
  const only = (name: string) => process.env[name]?.split(',').filter((s) => s !== '');
  const suites = (only('CONFORMANCE_SUITES') ?? SUITES).map((id) => {
    const suite = all.find((s) => s.id === id);
    if (suite === undefined) throw new Error(`no suite ${id} in http-cache-tests`);
    return { ...suite, tests: suite.tests.filter((t) => t.browser_only !== true) };
  });
  const varnish = JSON.parse(readFileSync(join(packageDir, 'results', 'varnish.json'), 'utf8')) as Record<string, Result>;
  const origin = await startOrigin();
  let failures = 0;
  try {
    for (const adapter of (only('CONFORMANCE_ADAPTERS') ?? ['express', 'fastify']) as ('express' | 'fastify')[]) {
      const proxy = await startProxy(adapter, origin.url, 'response');
      let results: Record<string, Result>;
      try {
        results = await runSuites(suites, proxy.url);
      } finally {
        await proxy.app.close();
      }
      const byId = new Map(suites.flatMap((s) => s.tests.map((t) => [t.id, t] as const)));
      const dependencyFailed = (test: SuiteTest): boolean =>
        (test.depends_on ?? []).some((d) => !passed(results[d]) || dependencyFailed(byId.get(d)!));
      console.log(`\n${adapter}: freshness 'response'`);
      let optimalOurs = 0;
      let optimalVarnish = 0;
      const unexpected: string[] = [];
      for (const suite of suites) {
        const required = suite.tests.filter((t) => (t.kind ?? 'required') === 'required');
        const requiredPassed = required.filter((t) => passed(results[t.id]) || dependencyFailed(t));
        const optimal = suite.tests.filter((t) => t.kind === 'optimal');
        const optimalPassed = optimal.filter((t) => passed(results[t.id]));
        optimalOurs += optimalPassed.length;
        optimalVarnish += optimal.filter((t) => passed(varnish[t.id])).length;
        const failed = required.filter((t) => !passed(results[t.id]) && !dependencyFailed(t));
        const reason = (t: SuiteTest) => notApplicable[`${adapter}:${t.id}`] ?? notApplicable[t.id];
        const excused = failed.filter((t) => reason(t) !== undefined);
        for (const t of failed) if (reason(t) === undefined) unexpected.push(`${t.id}: ${JSON.stringify(results[t.id])}`);
        console.log(
          `  ${suite.id.padEnd(16)} required ${requiredPassed.length}/${required.length}` +
            (excused.length > 0 ? ` (+${excused.length} not applicable)` : '') +
            `  optimal ${optimalPassed.length}/${optimal.length}`,
        );
      }
      const everyTest = suites.flatMap((s) => s.tests);
      const allPassed = everyTest.filter((t) => passed(results[t.id])).length;
      console.log(
        `  optimal passed: ${optimalOurs} (Varnish on the same ids: ${optimalVarnish}); all kinds: ${allPassed} of ${everyTest.length} passed`,
      );
      for (const line of unexpected) console.log(`  FAIL ${line}`);
      failures += unexpected.length + (optimalOurs < optimalVarnish ? 1 : 0);
    }
  } finally {
    origin.child.kill();
  }
  console.log(failures === 0 ? '\nconformance: ok' : `\nconformance: ${failures} problem(s)`);
  return failures === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
