import { RedisClusterProcesses, RedisProcess } from '../../test/support/redis-harness';
import { command, loseWriteAndFailOverCluster, shardOf } from '../../test/support/redis-failover';
import { RedisSentinelProcesses } from '../../test/support/redis-sentinel';
import { waitFor } from '../../test/support/redis-harness';
import { WriteGate } from './write-gate';

/** `memory` is there to watch the check fail: instances with memory stores do not see each other's invalidations. */
export type Store = 'memory' | 'redis' | 'tiered' | 'redis-sentinel' | 'redis-cluster';

export const STORES: readonly Store[] = ['memory', 'redis', 'tiered', 'redis-sentinel', 'redis-cluster'];

/** What the faults are timed by. */
export interface FaultPlan {
  durationMs: number;
  faultMs: number;
  log: (line: string) => void;
  /** The workload's writers, held from just before a master dies until the instances read from the new one. */
  gate: WriteGate;
  /** Resolves once every instance reports its cache store up again (`/health/ready`). */
  instancesUp: () => Promise<void>;
}

/** After every instance is back on Redis, how long writes stay held more (reads from the new master). */
const READS_RESUME_MS = 1_000;

/**
 * Opens the gate once every instance is back on Redis, and a little later: a write acknowledged by
 * an instance still reconnecting leaves its invalidation waiting, and the others may serve what it
 * replaced until it reconnects (README: Failure isolation); that is the partition case, not this one.
 */
async function reopen(plan: FaultPlan): Promise<void> {
  await plan.instancesUp();
  await sleep(READS_RESUME_MS);
  plan.gate.open();
  plan.log('writes released');
}

/** The Redis a run's demo processes share, the variables that point them at it, and its fault schedule. */
export interface Topology {
  env: Record<string, string>;
  describe: string;
  /** Runs the schedule (starting now, over the run) and resolves with the number of failovers it made. */
  faults(plan: FaultPlan): Promise<number>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The key of the `posts` tag's version: its shard is the one that fails over on Cluster. */
const POSTS_VERSION_KEY = 'cc:t:posts';

export async function startTopology(store: Store): Promise<Topology> {
  if (store === 'redis-sentinel') return sentinelTopology();
  if (store === 'redis-cluster') return clusterTopology();
  const redis = await RedisProcess.start();
  return {
    env: { CACHE_STORE: store, REDIS_URL: redis.url },
    describe: redis.url,
    // Redis paused (SIGSTOP) at a third of the run and killed at two thirds, each for faultMs.
    async faults({ durationMs, faultMs, log }) {
      await sleep(durationMs / 3);
      log(`${store}: Redis paused (SIGSTOP) for ${faultMs} ms`);
      redis.pause();
      await sleep(faultMs);
      redis.resume();
      await sleep(Math.max(0, durationMs / 3 - faultMs));
      log(`${store}: Redis killed for ${faultMs} ms`);
      await redis.kill();
      await sleep(faultMs);
      await redis.launch();
      log(`${store}: Redis back`);
      return 0;
    },
    stop: () => redis.stop(),
  };
}

/**
 * A master, a replica and three sentinels. At a third and at two thirds of the run: the replica
 * paused and its link cut while writes go on (acknowledged by the master alone) for faultMs / 2,
 * then the master killed and the replica promoted by the sentinels; the old master comes back as
 * a replica.
 */
async function sentinelTopology(): Promise<Topology> {
  const redis = await RedisSentinelProcesses.start({ downAfterMs: 500, failoverTimeoutMs: 2000 });
  return {
    env: {
      CACHE_STORE: 'redis',
      REDIS_SENTINELS: redis.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      REDIS_SENTINEL_NAME: redis.name,
    },
    describe: `Sentinel "${redis.name}" (${redis.sentinels.length} sentinels, a master and a replica)`,
    async faults(plan) {
      const { durationMs, faultMs, log, gate } = plan;
      for (const at of [1, 2]) {
        await sleep(at === 1 ? durationMs / 3 : Math.max(0, durationMs / 3 - faultMs - READS_RESUME_MS - 2_000));
        log(`redis-sentinel: replica cut off for ${faultMs / 2} ms of writes, then the master killed`);
        await redis.loseWriteAndFailOver(async () => {
          await sleep(faultMs / 2);
          await gate.close();
          log('redis-sentinel: writes held; the master is killed');
        });
        log(`redis-sentinel: replica promoted after ${redis.failoverMs.at(-1)?.toFixed(0)} ms; writes held until every instance is back`);
        await reopen(plan);
      }
      return redis.failoverMs.length;
    },
    stop: () => redis.stop(),
  };
}

/**
 * Three masters with a replica each. At a third of the run, `CLUSTER FAILOVER` (the replica takes
 * over once it has every write) on the shard of the `posts` version; at two thirds, that shard's
 * replica cut off while writes go on for faultMs / 2, then its master killed and the replica
 * elected; the old master comes back as a replica.
 */
async function clusterTopology(): Promise<Topology> {
  const cluster = await RedisClusterProcesses.start({ replicas: 1, nodeTimeoutMs: 1000 });
  return {
    env: { CACHE_STORE: 'redis', REDIS_CLUSTER_NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(',') },
    describe: `Redis Cluster (${cluster.nodes.length} nodes, 3 masters with a replica each)`,
    async faults(plan) {
      const { durationMs, faultMs, log, gate } = plan;
      for (const key of [POSTS_VERSION_KEY, 'cc:t:\u0001generation', 'cc:t:\u0001epoch']) {
        const shard = await shardOf(cluster, key);
        log(`redis-cluster: ${JSON.stringify(key)} on master ${shard.master.port}, replica ${shard.replica.port}`);
      }
      await sleep(durationMs / 3);
      const replica = (await shardOf(cluster, POSTS_VERSION_KEY)).replica.port;
      log(`redis-cluster: CLUSTER FAILOVER on ${replica}`);
      await command(replica, 'CLUSTER', 'FAILOVER');
      await waitFor(async () => /role:master/.test(String(await command(replica, 'INFO', 'replication'))), 'the manual failover', 30_000);
      log(`redis-cluster: ${replica} is master`);
      await sleep(Math.max(0, durationMs / 3 - faultMs - 3_000));
      log(`redis-cluster: the replica cut off for ${faultMs / 2} ms of writes, then its master killed`);
      const cut = async () => {
        await sleep(faultMs / 2);
        await gate.close();
        log('redis-cluster: writes held; the master is killed');
      };
      let reopened = Promise.resolve();
      const elected = () => {
        log('redis-cluster: the replica is master');
        reopened = reopen(plan);
      };
      const tookMs = await loseWriteAndFailOverCluster(cluster, POSTS_VERSION_KEY, cut, 'kill', elected);
      log(`redis-cluster: replica elected ${tookMs.toFixed(0)} ms after the cut; writes held until every instance is back`);
      await reopened;
      return 2;
    },
    stop: () => cluster.stop(),
  };
}
