import { Logger } from '@nestjs/common';
import { ResponseCacheConfigError } from 'nestjs-response-cache';
import { createRedisClient } from 'nestjs-response-cache/redis';
import { RedisProcess, freePort } from '../support/redis-harness';

/** What a user outside this repository reads when the Redis settings are wrong or Redis is down. */
describe('Redis startup messages', () => {
  it.each(['redis://127.0.0.1:99999', 'redis://127.0.0.1:0', 'redis://:6379', 'http://127.0.0.1:6379', 'redis://user:secret@[bad'])(
    'refuses %s with an error naming the option, not a raw TypeError from ioredis',
    (url) => {
      expect(() => createRedisClient({ url })).toThrow(ResponseCacheConfigError);
      expect(() => createRedisClient({ url })).toThrow(/invalid option "url"/);
      expect(() => createRedisClient({ url })).not.toThrow(/secret/);
    },
  );

  it('logs one line naming the host and what the cache does meanwhile when Redis is unreachable, however often it retries', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const port = await freePort(); // nothing listens there
    const client = createRedisClient({ url: `redis://127.0.0.1:${port}` });
    try {
      let errors = 0;
      await new Promise<void>((resolve) => {
        client.on('error', () => {
          if (++errors === 3) resolve();
        });
      });
      const lines = warn.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('unreachable'));
      expect(lines).toEqual([
        `Redis at 127.0.0.1:${port} is unreachable (ECONNREFUSED): requests are served by their handlers without the cache until it connects; retrying in the background`,
      ]);
    } finally {
      client.disconnect();
      warn.mockRestore();
    }
  });

  it('says nothing when Redis answers', async () => {
    const redis = await RedisProcess.start();
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const client = createRedisClient({ url: redis.url });
    try {
      await new Promise((resolve) => client.once('ready', resolve));
      expect(await client.ping()).toBe('PONG');
      expect(warn).not.toHaveBeenCalled();
    } finally {
      client.disconnect();
      warn.mockRestore();
      await redis.stop();
    }
  });
});
