import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisProcess, freePort, redisServerBin, waitFor } from './redis-harness';
import { FAST_SYNC, command, cutReplica, info, waitInSync } from './redis-failover';

/** Redis Sentinel for real: a master, a replica and three `redis-server --sentinel` on free ports. */

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
      // Staggered by 100 ms: the first sentinel to see the master down usually wins the vote
      // (three at once split it, and the election is tried again only after 2 × failover-timeout).
      [0, 1, 2].map((i) =>
        SentinelProcess.start(master.port, 'mymaster', (options.downAfterMs ?? 500) + 100 * i, options.failoverTimeoutMs ?? 2000),
      ),
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
