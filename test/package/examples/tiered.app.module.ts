import { Module } from '@nestjs/common';
import { ResponseCacheModule } from 'nestjs-response-cache';
import { RedisCacheStore, RedisStampedeLock, TieredCacheStore, createRedisClient, duplicateClient } from 'nestjs-response-cache/redis';
import { AppController } from './app.controller.js';
import { AppService } from './app.service.js';

const client = createRedisClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
const l2 = new RedisCacheStore({ client, prefix: 'myapp:', ownsClient: true });

@Module({
  imports: [
    ResponseCacheModule.forRoot({
      ttl: 60,
      // A memory L1 in front of the Redis L2; invalidations reach every instance's L1 over pub/sub.
      store: new TieredCacheStore({ l2, subscriber: duplicateClient(client), channel: 'myapp:bus', l1MaxSizeBytes: 50 * 1024 * 1024 }),
      // Optional: a cold key across N instances runs its handler about once.
      stampede: { lock: new RedisStampedeLock({ client, subscriber: duplicateClient(client), prefix: 'myapp:' }) },
    }),
  ],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
