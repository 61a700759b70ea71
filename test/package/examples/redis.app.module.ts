import { Module } from '@nestjs/common';
import { ResponseCacheModule } from 'nestjs-response-cache';
import { RedisCacheStore, createRedisClient } from 'nestjs-response-cache/redis';
import { AppController } from './app.controller.js';
import { AppService } from './app.service.js';

@Module({
  imports: [
    ResponseCacheModule.forRoot({
      ttl: 60,
      // npm i ioredis. Every instance that shares this Redis shares the entries and the invalidations.
      store: new RedisCacheStore({
        client: createRedisClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }),
        prefix: 'myapp:',
        ownsClient: true,
      }),
    }),
  ],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
