import { ManualClock } from 'nestjs-response-cache/testing';
import { OperationLogger, redactSecrets } from 'nestjs-response-cache/internal/observability/operation-logger';
import { startDemo } from '../support/demo-app';
import { RedisProcess } from '../support/redis-harness';
import { uniquePrefix } from '../support/redis-stores';

const PASSWORD = 'redis-s3cret-password';

describe('operation logs of store errors (real Redis with a password)', () => {
  it('one JSON line per second at most, counting the ones left out, with no password in them', async () => {
    const redis = await RedisProcess.start(['--requirepass', PASSWORD]);
    const clock = new ManualClock(Date.now());
    const url = redis.url.replace('redis://', `redis://:${PASSWORD}@`);
    const demo = await startDemo(
      'express',
      { CACHE_STORE: 'redis', REDIS_URL: url, CACHE_KEY_PREFIX: uniquePrefix(), CACHE_LOG_OPERATIONS: 'true', CACHE_OP_TIMEOUT_MS: '100' },
      { resilience: { opTimeoutMs: 100, failureThreshold: 1000, cooldownMs: 60_000 } },
      clock,
    );
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      await redis.kill();
      for (let i = 0; i < 10; i++) await (await fetch(`${demo.url}/api/users/${(i % 3) + 1}`)).arrayBuffer();
      clock.advance(1000);
      await (await fetch(`${demo.url}/api/users/1`)).arrayBuffer();
    } finally {
      spy.mockRestore();
      await demo.close();
      await redis.stop();
    }
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const errors = events.filter((e) => e.type === 'store-error');
    // Each request fails at least once on the store; only the first error of each second is written.
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ level: 'warn', store: 'redis', operation: expect.any(String) as string });
    expect(errors[1].suppressed).toBeGreaterThanOrEqual(9);
    expect(events.filter((e) => e.type === 'bypass').length).toBeGreaterThanOrEqual(10);
    expect(lines.join('')).not.toContain(PASSWORD);
  });
});

describe('redactSecrets', () => {
  it.each([
    ['connect to redis://:hunter2@cache:6379 failed', 'connect to redis://:***@cache:6379 failed'],
    ['rediss://user:hunter2@cache:6380', 'rediss://user:***@cache:6380'],
    ['ERR AUTH alice hunter2', 'ERR AUTH ***'],
    ['connect ECONNREFUSED 127.0.0.1:6379', 'connect ECONNREFUSED 127.0.0.1:6379'],
  ])('%s', (input, output) => {
    expect(redactSecrets(input)).toBe(output);
  });

  it('a logger writes a store-error line with the message redacted', () => {
    const lines: string[] = [];
    new OperationLogger(new ManualClock(), (line) => lines.push(line)).log({
      type: 'store-error',
      store: 'redis',
      operation: 'get',
      error: 'redis://:hunter2@x:1 refused',
    });
    expect(JSON.parse(lines[0])).toMatchObject({ error: 'redis://:***@x:1 refused' });
  });
});
