import { Redis } from 'ioredis';
import { RedisClusterProcesses, RedisProcess, waitFor } from './redis-harness';

/**
 * Failovers for real (with redis-sentinel.ts): replication helpers, a Redis Cluster's shards, and
 * the fault that loses an acknowledged write: the replica paused and its link cut, the write
 * acknowledged by the master alone, then the master killed (or taken over) and the replica promoted.
 */

/** One command on a connection of its own (the harness's view, never through the cache's client). */
export async function command(port: number, ...args: (string | number)[]): Promise<unknown> {
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await redis.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    redis.disconnect();
  }
}

export async function info(port: number, section: string): Promise<string> {
  return String(await command(port, 'INFO', section).catch(() => ''));
}

/** A full sync starts at once (Redis waits 5 s for more replicas by default). */
export const FAST_SYNC = ['--repl-diskless-sync-delay', '0'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the replica on `replicaPort` follows `masterPort` and holds every write made so far (SET, then WAIT on one connection). */
export async function waitInSync(masterPort: number, replicaPort: number, timeoutMs = 20_000, syncKey = 'harness:sync'): Promise<void> {
  await waitFor(
    async () => {
      const replica = await info(replicaPort, 'replication');
      if (!replica.includes(`master_port:${masterPort}`) || !replica.includes('master_link_status:up')) return false;
      const redis = new Redis({
        port: masterPort,
        host: '127.0.0.1',
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      redis.on('error', () => undefined);
      try {
        await redis.connect();
        await redis.set(syncKey, String(Date.now()));
        return (await redis.wait(1, 500)) >= 1;
      } catch {
        return false;
      } finally {
        redis.disconnect();
      }
    },
    `the replica on ${replicaPort} in sync with ${masterPort}`,
    timeoutMs,
  ).catch(async (error: Error) => {
    const [master, replica] = await Promise.all([info(masterPort, 'replication'), info(replicaPort, 'replication')]);
    throw new Error(`${error.message}\nmaster ${masterPort}:\n${master}\nreplica ${replicaPort}:\n${replica}`);
  });
}

/** The replica paused and its replication link cut: from now on, writes on the master reach no replica. */
export async function cutReplica(master: RedisProcess, replica: RedisProcess): Promise<void> {
  replica.pause();
  await command(master.port, 'CLIENT', 'KILL', 'TYPE', 'replica');
}

interface ClusterNode {
  id: string;
  port: number;
  master: boolean;
  masterId: string;
  myself: boolean;
  slots: [number, number][];
}

/** `CLUSTER NODES` as seen from `port`. */
export async function clusterNodes(port: number): Promise<ClusterNode[]> {
  const text = String(await command(port, 'CLUSTER', 'NODES'));
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.split(' ');
      return {
        id,
        port: Number(/:(\d+)@/.exec(address)?.[1]),
        master: flags.split(',').includes('master') && !flags.includes('fail'),
        masterId,
        myself: flags.split(',').includes('myself'),
        slots: slots
          .filter((s) => /^\d+(-\d+)?$/.test(s))
          .map((s) => s.split('-').map(Number) as [number, number])
          .map(([a, b]) => [a, b ?? a]),
      };
    });
}

/**
 * The master that holds `key` and its replica, each as it sees itself (another node's view can lag
 * behind a failover), once they agree (right after a failover, the old master may not yet say it
 * follows the new one).
 */
export async function shardOf(cluster: RedisClusterProcesses, key: string): Promise<{ master: RedisProcess; replica: RedisProcess }> {
  const slot = Number(await command(cluster.nodes[0].port, 'CLUSTER', 'KEYSLOT', key));
  let found: { master: RedisProcess; replica: RedisProcess } | undefined;
  await waitFor(
    async () => {
      const selves = await Promise.all(cluster.nodes.map(async (n) => (await clusterNodes(n.port).catch(() => [])).find((v) => v.myself)));
      const owner = selves.find((n) => n?.master === true && n.slots.some(([a, b]) => a <= slot && slot <= b));
      const follower = selves.find((n) => n?.master === false && n.masterId === owner?.id);
      const master = cluster.nodes.find((n) => n.port === owner?.port);
      const replica = cluster.nodes.find((n) => n.port === follower?.port);
      found = master !== undefined && replica !== undefined ? { master, replica } : undefined;
      return found !== undefined;
    },
    `a master with a replica for slot ${slot}`,
    20_000,
  );
  return found!;
}

/**
 * On a Cluster with replicas: the master of `key`'s slot loses `write` (acknowledged by it alone)
 * and its replica takes over, by an election after the master is killed (`kill`) or by `CLUSTER
 * FAILOVER TAKEOVER` while the master hangs (`takeover`). The old master comes back as a replica.
 */
export async function loseWriteAndFailOverCluster(
  cluster: RedisClusterProcesses,
  key: string,
  write: () => Promise<void>,
  mode: 'kill' | 'takeover',
  elected?: () => void,
): Promise<number> {
  const { master, replica } = await shardOf(cluster, key);
  // A key in the same slot (Cluster nodes refuse others).
  const syncKey = /\{[^}]+\}/.test(key) ? `${key}:sync` : `{${key}}:sync`;
  await waitInSync(master.port, replica.port, 20_000, syncKey);
  await cutReplica(master, replica);
  const began = performance.now();
  try {
    await write();
  } finally {
    if (mode === 'kill') {
      await master.kill();
      replica.resume();
    } else {
      master.pause();
      replica.resume();
      await command(replica.port, 'CLUSTER', 'FAILOVER', 'TAKEOVER');
    }
  }
  await waitFor(async () => /role:master/.test(await info(replica.port, 'replication')), 'the replica to take over', 30_000);
  const tookMs = performance.now() - began;
  elected?.();
  if (mode === 'takeover') await master.kill();
  await sleep(50);
  await master.launch();
  await waitInSync(replica.port, master.port, 30_000, syncKey);
  await waitFor(
    async () =>
      (await Promise.all(cluster.nodes.map((n) => command(n.port, 'CLUSTER', 'INFO').catch(() => '')))).every((s) =>
        String(s).includes('cluster_state:ok'),
      ),
    'the cluster to be ok again',
    30_000,
  );
  return tookMs;
}
