import { Controller, Get, HttpCode, INestApplication, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Cluster } from 'ioredis';
import { Cacheable, InvalidateTags, ResponseCacheModule } from 'nestjs-response-cache';
import { RedisCacheStore, createRedisClient } from 'nestjs-response-cache/redis';
import { RedisClusterProcesses, waitFor } from '../support/redis-harness';
import { clusterNodes, command, info } from '../support/redis-failover';
import { uniquePrefix, whenReady } from '../support/redis-stores';

/**
 * Issue 24, Cluster: after `CLUSTER FAILOVER` a client learns that a shard moved only from a
 * `MOVED` reply, and ioredis's auto-pipeline does not follow one when the commands it sent together
 * were redirected for different slots: each fails with the raw reply and the client keeps its old
 * slot map. An instance whose first commands to the shard after the failover are a write's
 * invalidations (two tags of the shard, in different slots) must still land them on the new master
 * before the write is acknowledged: otherwise the other instances go on serving what it replaced.
 */
interface Layout {
  /** Two tags whose versions live on the shard that fails over, in different slots. */
  tags: [string, string];
  /** The slot of the first one's version. */
  slot: number;
  /** Port of that shard's replica (it takes over). */
  replicaPort: number;
}

/** Tags on a shard that holds neither the invalidation epoch nor the generation (their own writes must not redirect the client first). */
async function layout(cluster: RedisClusterProcesses, prefix: string): Promise<Layout> {
  const port = cluster.nodes[0].port;
  const nodes = await clusterNodes(port);
  const slotOf = async (key: string) => Number(await command(port, 'CLUSTER', 'KEYSLOT', key));
  const ownerOf = (slot: number) => nodes.find((n) => n.master && n.slots.some(([a, b]) => a <= slot && slot <= b))!;
  const busy = [ownerOf(await slotOf(`${prefix}t:\u0001epoch`)).id, ownerOf(await slotOf(`${prefix}t:\u0001generation`)).id];
  const shard = nodes.find((n) => n.master && n.slots.length > 0 && !busy.includes(n.id))!;
  const tags: string[] = [];
  const slots = new Set<number>();
  for (let i = 0; tags.length < 2; i++) {
    const slot = await slotOf(`${prefix}t:item${i}`);
    if (ownerOf(slot).id !== shard.id || slots.has(slot)) continue;
    tags.push(`item${i}`);
    slots.add(slot);
  }
  const replica = nodes.find((n) => n.masterId === shard.id)!;
  return { tags: tags as [string, string], slot: [...slots][0], replicaPort: replica.port };
}

/** `GET /item` cached under both tags; `POST /item` invalidates both. */
function itemModule(store: RedisCacheStore, tags: [string, string], state: { version: number }) {
  @Controller('item')
  class ItemController {
    @Get()
    @Cacheable({ tags })
    read() {
      return { version: state.version };
    }

    @Post()
    @HttpCode(201)
    @InvalidateTags(...tags)
    write() {
      state.version++;
      return { version: state.version };
    }
  }
  @Module({ imports: [ResponseCacheModule.forRoot({ store, ttl: 300 })], controllers: [ItemController] })
  class AppModule {}
  return AppModule;
}

async function instance(cluster: RedisClusterProcesses, prefix: string, tags: [string, string], state: { version: number }) {
  const client = createRedisClient({ clusterNodes: cluster.seeds });
  await whenReady(client);
  const store = new RedisCacheStore({ client, prefix, ownsClient: true });
  const app = await NestFactory.create(itemModule(store, tags, state), { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  await store.ready();
  return { app, client: client as Cluster, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

/** Every node's view has the node on `port` as a master (so a slot map refreshed from any is the new one). */
async function everyNodeSees(cluster: RedisClusterProcesses, port: number): Promise<boolean> {
  const views = await Promise.all(cluster.nodes.map((n) => clusterNodes(n.port).catch(() => [])));
  return views.every((view) => view.some((n) => n.port === port && n.master && n.slots.length > 0));
}

async function read(url: string): Promise<{ xCache: string | null; version: number }> {
  const res = await fetch(`${url}/item`);
  return { xCache: res.headers.get('x-cache'), version: ((await res.json()) as { version: number }).version };
}

describe('Redis Cluster: an invalidation sent on a slot map from before a CLUSTER FAILOVER (MOVED)', () => {
  let cluster: RedisClusterProcesses;
  const apps: INestApplication[] = [];
  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start({ replicas: 1, nodeTimeoutMs: 1000 });
  }, 60_000);
  afterAll(async () => {
    for (const app of apps) await app.close();
    await cluster?.stop();
  });

  it('lands on the new master before the write is acknowledged: the other instance never serves what it replaced', async () => {
    const prefix = uniquePrefix(); // no hash tag: the keys spread over the shards, as in production
    const { tags, slot, replicaPort } = await layout(cluster, prefix);
    const state = { version: 1 }; // the data both instances serve (one database)
    const reader = await instance(cluster, prefix, tags, state);
    const writer = await instance(cluster, prefix, tags, state);
    apps.push(reader.app, writer.app);

    await command(replicaPort, 'CLUSTER', 'FAILOVER');
    await waitFor(async () => /role:master/.test(await info(replicaPort, 'replication')), 'the manual failover', 10_000);
    await waitFor(() => everyNodeSees(cluster, replicaPort), 'every node to see the new master', 10_000);
    // The reader has been redirected (a busy instance soon is); the writer has sent nothing since.
    await new Promise<void>((resolve, reject) => reader.client.refreshSlotsCache((error) => (error ? reject(error) : resolve())));
    await waitFor(async () => (await read(reader.url)).xCache === 'HIT', 'a HIT on the reader after the failover', 10_000);

    // What the test is about: the writer's client still routes the shard to the old master (ioredis's map).
    expect((writer.client as unknown as { slots: string[][] }).slots[slot][0]).not.toBe(`127.0.0.1:${replicaPort}`);
    const res = await fetch(`${writer.url}/item`, { method: 'POST' });
    expect(res.status).toBe(201);
    const after = await read(reader.url);
    expect(after).toEqual({ xCache: 'MISS', version: 2 });
  }, 60_000);
});
