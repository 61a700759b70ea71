// Run by test/memory-bound.e2e-spec.ts as `node --expose-gc`: fills the built MemoryCacheStore
// with many small compressed entries (gzip made by zlib, as the cache makes them) and prints what
// the process holds afterwards, after a full GC, against the store's bound.
'use strict';
const { promisify } = require('node:util');
const { gzip } = require('node:zlib');
const { MemoryCacheStore } = require('nestjs-response-cache');

const gzipAsync = promisify(gzip);
const bound = Number(process.argv[2] ?? 20 * 1024 * 1024);
const count = Number(process.argv[3] ?? 40000);

/** Several full collections with turns of the event loop between them (finalizers run then). */
async function settle() {
  for (let i = 0; i < 5; i++) {
    global.gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main() {
  const store = new MemoryCacheStore({ maxSizeBytes: bound });
  await settle();
  const before = process.memoryUsage();
  for (let i = 0; i < count; i++) {
    const key = `GET localhost:3000/api/items/${i}`;
    const body = JSON.stringify({ id: i, name: `item ${i}`, text: `${'lorem ipsum '.repeat(100)}${i}` });
    const fence = await store.snapshot([`item:${i}`, 'items', `\u0001key:${key}`]);
    const now = Date.now();
    const entry = {
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', 'last-modified': new Date(now).toUTCString() },
      body,
      gzip: await gzipAsync(Buffer.from(body)),
      etag: `W/"${i.toString(16)}"`,
      storedAt: now,
      expiresAt: now + 60000,
      fence,
    };
    await store.set(key, entry, 60000);
  }
  await settle();
  const after = process.memoryUsage();
  const stats = await store.stats();
  process.stdout.write(
    JSON.stringify({
      bound,
      entries: stats.entries,
      counted: stats.sizeBytes,
      held: after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers),
      heap: after.heapUsed - before.heapUsed,
      ab: after.arrayBuffers - before.arrayBuffers,
      ext: after.external - before.external,
      rssGrowth: after.rss - before.rss,
    }),
  );
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
