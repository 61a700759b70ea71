/**
 * `node --expose-gc dist/bench/memory-per-entry.js`: what 10,000 cached 1.5 KB responses cost the
 * process (RSS and heap after GC), against the bytes stored (bodies and their gzip copies). The
 * entries are filled through the app (Fastify, memory store, fast lane on), as in production.
 */
import 'reflect-metadata';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Cacheable, ResponseCacheModule } from 'nestjs-response-cache';
import { gzipSync } from 'node:zlib';
import { PAYLOAD } from './payload';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 10_000);

function body(id: string): unknown {
  return { id, ...PAYLOAD };
}

@Controller()
class ItemsController {
  @Get('item/:id')
  @Cacheable({ ttl: 3600 })
  item(@Param('id') id: string) {
    return body(id);
  }
}

@Module({ imports: [ResponseCacheModule.forRoot({ maxMemoryBytes: 1024 * 1024 * 1024, fastLane: true })], controllers: [ItemsController] })
class ItemsModule {}

function settled(): { rss: number; heap: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 4; i++) gc();
  const usage = process.memoryUsage();
  // `external` includes the array buffers (Buffers: the gzip copies).
  return { rss: usage.rss, heap: usage.heapUsed + usage.external };
}

async function main(): Promise<void> {
  const app = await NestFactory.create(ItemsModule, new FastifyAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const fill = async (from: number, to: number) => {
    for (let next = from; next < to;) {
      const batch = Array.from({ length: Math.min(50, to - next) }, () => next++);
      await Promise.all(batch.map((i) => fetch(`${url}/item/${i}`).then((r) => r.arrayBuffer())));
    }
  };
  await fill(-200, 0); // JIT, pools and the first allocations out of the way
  const before = settled();
  await fill(0, ENTRIES);
  const after = settled();
  let stored = 0;
  for (let i = 0; i < ENTRIES; i++) {
    const identity = Buffer.from(JSON.stringify(body(String(i))));
    stored += identity.length + gzipSync(identity).length;
  }
  const result = {
    entries: ENTRIES,
    bytesStored: stored,
    rssBytes: after.rss - before.rss,
    heapBytes: after.heap - before.heap,
    rssPerStoredByte: Math.round(((after.rss - before.rss) / stored) * 100) / 100,
    heapPerStoredByte: Math.round(((after.heap - before.heap) / stored) * 100) / 100,
  };
  await app.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

void main();
