import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisClusterProcesses, RedisProcess, freePort, redisServerBin, waitFor } from './redis-harness';

/**
 * Failovers for real: a master, a replica and three sentinels (`redis-server --sentinel`), and a
 * Redis Cluster with replicas, on free ports; and the fault that loses an acknowledged write: the
 * replica paused and its link cut, the write acknowledged by the master alone, then the master
 * killed (or taken over) and the replica promoted.
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

async function info(port: number, section: string): Promise<string> {
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
async function cutReplica(master: RedisProcess, replica: RedisProcess): Promise<void> {
  replica.pause();
  await command(master.port, 'CLIENT', 'KILL', 'TYPE', 'replica');
}

class SentinelProcess {
  private child?: ChildProcess;
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(masterPort: number, name: string, downAfterMs: number, failoverTimeoutMs: number): Promise<SentinelProcess> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'rc-sentinel-'));
    const conf = [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
      `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
      `sentinel parallel-syncs ${name} 1`,
    ].join('\n');
    writeFileSync(join(dir, 'sentinel.conf'), `${conf}\n`);
    const sentinel = new SentinelProcess(port, dir);
    sentinel.child = spawn(redisServerBin(), [join(dir, 'sentinel.conf'), '--sentinel'], { stdio: 'ignore' });
    await waitFor(async () => (await command(port, 'PING').catch(() => '')) === 'PONG', `sentinel on port ${port}`);
    return sentinel;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A master, one replica and three sentinels watching them under `name`. */
export class RedisSentinelProcesses {
  readonly name = 'mymaster';
  /** Milliseconds from each killed master to its replica answering as the master, named by every sentinel. */
  readonly failoverMs: number[] = [];

  private constructor(
    private readonly servers: RedisProcess[],
    private readonly watchers: SentinelProcess[],
  ) {}

  static async start(options: { downAfterMs?: number; failoverTimeoutMs?: number } = {}): Promise<RedisSentinelProcesses> {
    const master = await RedisProcess.start(FAST_SYNC);
    const replica = await RedisProcess.start([...FAST_SYNC, '--replicaof', '127.0.0.1', String(master.port)]);
    await waitInSync(master.port, replica.port);
    const watchers = await Promise.all(
      [0, 1, 2].map(() => SentinelProcess.start(master.port, 'mymaster', options.downAfterMs ?? 500, options.failoverTimeoutMs ?? 2000)),
    );
    const set = new RedisSentinelProcesses([master, replica], watchers);
    await set.waitForSentinels();
    return set;
  }

  /** Where clients find the sentinels (`createRedisClient({ sentinels, sentinelName })`). */
  get sentinels(): { host: string; port: number }[] {
    return this.watchers.map((w) => ({ host: '127.0.0.1', port: w.port }));
  }

  /** The port every sentinel names as the master, or undefined while they disagree. */
  async masterPort(): Promise<number | undefined> {
    const ports = await Promise.all(
      this.watchers.map(async (w) => {
        const answer = (await command(w.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name).catch(() => [])) as string[];
        return Number(answer[1]);
      }),
    );
    return ports.every((p) => p === ports[0]) ? ports[0] : undefined;
  }

  /** The master and the replica, as the servers say themselves (and the sentinels agree). */
  async roles(): Promise<{ master: RedisProcess; replica: RedisProcess }> {
    const roles = await Promise.all(this.servers.map(async (s) => /role:master/.test(await info(s.port, 'replication'))));
    const master = this.servers.find((_, i) => roles[i]);
    const replica = this.servers.find((_, i) => !roles[i]);
    if (master === undefined || replica === undefined) throw new Error(`not one master and one replica: ${JSON.stringify(roles)}`);
    return { master, replica };
  }

  /**
   * One master and its replica in sync, named so by every sentinel, and every sentinel knows the
   * replica and the two other sentinels (a failover needs them). Whichever server is the master:
   * a sentinel that learns of a failover late may fail back once.
   */
  private async waitForSentinels(): Promise<void> {
    await waitFor(
      async () => {
        const roles = await this.roles().catch(() => undefined);
        if (roles === undefined) return false;
        const { master, replica } = roles;
        if ((await this.masterPort()) !== master.port) return false;
        if (
          !(await waitInSync(master.port, replica.port, 1_000).then(
            () => true,
            () => false,
          ))
        )
          return false;
        const views = await Promise.all(
          this.watchers.map(async (w) => {
            const replicas = JSON.stringify(await command(w.port, 'SENTINEL', 'REPLICAS', this.name).catch(() => []));
            const others = ((await command(w.port, 'SENTINEL', 'SENTINELS', this.name).catch(() => [])) as unknown[]).length;
            return replicas.includes(`"${replica.port}"`) && !replicas.includes('s_down') && others === 2;
          }),
        );
        return views.every(Boolean);
      },
      'the sentinels to know the replica and each other',
      30_000,
    );
  }

  /**
   * The fault of issue 24: the replica paused and its link cut; `write` runs (acknowledged by the
   * master alone); the master killed, the replica resumed and promoted by the sentinels. Then the
   * old master comes back as a replica of the new one, in sync, and the sentinels know it.
   */
  async loseWriteAndFailOver(write: () => Promise<void>): Promise<void> {
    await this.restoring;
    const { master, replica } = await this.roles();
    await waitInSync(master.port, replica.port);
    await cutReplica(master, replica);
    try {
      await write();
    } finally {
      await master.kill();
      replica.resume();
    }
    const killedAt = performance.now();
    await waitFor(
      async () => (await this.masterPort()) === replica.port && /role:master/.test(await info(replica.port, 'replication')),
      'the sentinels to promote the replica',
      30_000,
    );
    this.failoverMs.push(performance.now() - killedAt);
    this.restoring = this.restore(master, replica);
  }

  /** In the background after a failover (the next one waits for it): the old master back as a replica, in sync, known to the sentinels. */
  private restoring: Promise<void> = Promise.resolve();

  private async restore(old: RedisProcess, promoted: RedisProcess): Promise<void> {
    await old.launch(['--replicaof', '127.0.0.1', String(promoted.port)]);
    await this.waitForSentinels();
  }

  async stop(): Promise<void> {
    await this.restoring.catch(() => undefined);
    await Promise.all(this.watchers.map((w) => w.stop()));
    await Promise.all(this.servers.map((s) => s.stop()));
  }
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
