import { FixtureConfig } from './fixture-app';
import { RedisProcess } from '../../test/support/redis-harness';
import { checkTransparency } from './run';

/**
 * `npm run check:transparency [-- --sequences N] [--configs express-memory-lane,...]`: the fixture
 * app with the cache off and on, the same generated request sequences to both, every answer
 * compared. Ends with `transparency: N sequences, D differences`; exits 1 on any difference.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i === -1 ? undefined : args[i + 1];
  };
  const sequences = Number(arg('sequences') ?? 2000);
  const seed = Number(arg('seed') ?? 1);
  const wanted = arg('configs')?.split(',');
  const all: FixtureConfig[] = [];
  for (const adapter of ['express', 'fastify'] as const) {
    // URI versioning: the URL alone chooses the handler, so the fast lane serves (header, media-type
    // and custom versioning turn it off: those configurations check the interceptor's keys).
    for (const store of ['memory', 'redis'] as const) {
      for (const lane of [true, false]) all.push({ adapter, store, lane, cache: true, versioning: 'uri' });
    }
    for (const versioning of ['header', 'media', 'custom'] as const) {
      all.push({ adapter, store: 'memory', lane: true, cache: true, versioning });
    }
  }
  const configs = all.filter((c) => wanted === undefined || wanted.includes(nameOf(c)));
  let redis: RedisProcess | undefined;
  if (configs.some((c) => c.store === 'redis')) redis = await RedisProcess.start();
  let total = 0;
  let differences = 0;
  try {
    for (const config of configs) {
      const result = await checkTransparency({ ...config, redisUrl: redis?.url }, sequences, seed);
      total += result.sequences;
      differences += result.differences.length;
      console.log(
        `transparency: ${result.sequences} sequences, ${result.differences.length} differences (${nameOf(config)}, ${result.requests} requests, ${result.hits} hits, ${result.laneHits} by the fast lane)`,
      );
      for (const difference of result.differences.slice(0, 5)) console.log(`  ${difference}`);
    }
  } finally {
    await redis?.stop();
  }
  console.log(`transparency: ${total} sequences, ${differences} differences (${configs.length} configurations)`);
  process.exit(differences === 0 ? 0 : 1);
}

export function nameOf(config: FixtureConfig): string {
  return `${config.adapter}-${config.store}-${config.lane ? 'lane' : 'nolane'}-${config.versioning}`;
}

void main();
