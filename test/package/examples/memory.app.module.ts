import { Module } from '@nestjs/common';
import { ResponseCacheModule } from 'nestjs-response-cache';
import { AppController } from './app.controller.js';
import { AppService } from './app.service.js';

@Module({
  imports: [
    // The in-process store (lru-cache), bounded in bytes. TTLs are in seconds.
    ResponseCacheModule.forRoot({ ttl: 60, maxMemoryBytes: 50 * 1024 * 1024 }),
  ],
  controllers: [AppController],
  providers: [AppService],
})
export class AppModule {}
