import { Module } from '@nestjs/common';
import { ResponseCacheModule } from 'nestjs-response-cache';
import { RedisCacheStore, createRedisClient } from 'nestjs-response-cache/redis';
import { AppController } from './app.controller.js';
import { AppService } from './app.service.js';

// Seed nodes of the Redis Cluster, "host:port,host:port".
const seeds = (process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002').split(',');

@Module({
  imports: [
    ResponseCacheModule.forRoot({
      ttl: 60,
      store: new RedisCacheStore({
        client: createRedisClient({
          clusterNodes: seeds.map((seed) => ({ host: seed.split(':')[0], port: Number(seed.split(':')[1]) })),
        }),
        prefix: 'myapp:',
        ownsClient: true,
      }),
    }),
  ],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
