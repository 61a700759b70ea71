import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import type { RedisClient } from './redis-client';

/**
 * A new history: the replication ids or run ids in ARGV[3..] are not all members of the set under
 * KEYS[2] (the histories this cache has seen), so the generation under KEYS[1] gets a new random
 * value (ARGV[1], TTL ARGV[2] ms) and the ids join the set, in one step. Returns 1 (known), 2 (new
 * epoch). The set is dropped past 1000 members (then the next unknown id is one more new epoch).
 */
const ADOPT_HISTORY = `
local known = true
for i = 3, #ARGV do
  local member = redis.pcall('SISMEMBER', KEYS[2], ARGV[i])
  if member ~= 1 then known = false end
end
if known then return 1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local size = redis.pcall('SCARD', KEYS[2])
if type(size) ~= 'number' or size > 1000 then redis.call('DEL', KEYS[2]) end
redis.call('SADD', KEYS[2], unpack(ARGV, 3))
return 2`;

/**
 * What the read scripts put first in their answer: the node's replication id while it is a
 * master, else `replica` (a node that follows another may lag behind it: never trusted).
 */
export const REPLICATION_ID_LUA = `
local info = redis.call('INFO', 'replication')
local replid = 'replica'
if string.find(info, 'role:master', 1, true) then replid = string.match(info, 'master_replid:(%x+)') or 'unknown' end`;

type AdoptingClient = RedisClient & { rcAdoptHistory(gen: string, hist: string, ...args: (string | number)[]): Promise<number> };

export interface FailoverGuardOptions {
  client: RedisClient;
  /** The generation's version key: part of every entry's fence. */
  generationKey: string;
  /** The set of histories seen (same slot as the generation on Cluster). */
  historyKey: string;
  /** TTL of a new generation (the version TTL). */
  versionTtlMs: number;
  /** A new random version. */
  fresh: () => string;
}

const logger = new Logger('ResponseCache');

/**
 * Failover safety: Redis replicates asynchronously, so a promoted replica (Sentinel, Cluster) or a
 * master restarted from an older file can hold tag versions from before an acknowledged
 * invalidation, and an entry filled before it would be valid again. Every such event gives the
 * data set another history: a promoted replica a new replication id, a restarted server a new run
 * id. The generation (a tag every fence holds) gets a new random value the first time the cache
 * meets a history it has not seen, so every entry filled before the failover fails its fence.
 *
 * Two checks, both before any read is trusted:
 * - every read script returns the node's replication id; a read carrying an id this process has
 *   not confirmed is a miss, and the id is confirmed (the generation renewed if no instance had
 *   seen it) in the background: this catches a promotion on a connection that stayed open;
 * - after every (re)connection to a master, its run id and replication id are confirmed the same
 *   way, and until then every read is a miss: this catches a restart that kept the replication id.
 */
export class FailoverGuard {
  private readonly client: AdoptingClient;
  /**
   * Replication ids confirmed in this process, each with the turn it was confirmed on: a read
   * trusts only ids confirmed before it was sent (one answered after the epoch began may carry
   * data read before it).
   */
  private readonly confirmed = new Map<string, number>();
  private turn = 0;
  private readonly confirming = new Map<string, Promise<void>>();
  /** Connections whose server was confirmed since they (re)connected. */
  private readonly checked = new WeakSet<Redis>();
  private readonly checking = new WeakMap<Redis, Promise<void>>();
  private readonly watched = new WeakSet<Redis>();
  /** Closes seen per connection: a check counts only for the connection it ran on. */
  private readonly closes = new WeakMap<Redis, number>();
  /** Number of new epochs this process started (tests and logs). */
  epochs = 0;

  constructor(private readonly options: FailoverGuardOptions) {
    this.client = options.client as AdoptingClient;
    if (typeof (this.client as { rcAdoptHistory?: unknown }).rcAdoptHistory !== 'function') {
      this.client.defineCommand('rcAdoptHistory', { numberOfKeys: 2, lua: ADOPT_HISTORY });
    }
    if (this.isCluster) {
      const cluster = this.client as Cluster;
      for (const node of cluster.nodes('all')) this.watch(node);
      cluster.on('+node', (node: Redis) => this.watch(node));
    } else {
      this.watch(this.client as Redis);
    }
  }

  private get isCluster(): boolean {
    return (this.client as { isCluster?: boolean }).isCluster === true;
  }

  private masters(): Redis[] {
    return this.isCluster ? (this.client as Cluster).nodes('master') : [this.client as Redis];
  }

  private watch(node: Redis): void {
    if (this.watched.has(node)) return;
    this.watched.add(node);
    node.on('close', () => {
      this.checked.delete(node);
      this.closes.set(node, (this.closes.get(node) ?? 0) + 1);
    });
    node.on('ready', () => void this.checkConnection(node));
    if (node.status === 'ready') void this.checkConnection(node);
  }

  /** Taken before a read is sent, and given to {@link trusts} with its answer. */
  mark(): number {
    return this.turn;
  }

  /**
   * True when a read sent at `mark` and answered with these replication ids may be served: every
   * master connection was confirmed since it connected, and every id was, before the read was
   * sent. Otherwise false, and what is missing is confirmed in the background (so that a later
   * read passes).
   */
  trusts(replids: readonly string[], mark: number): boolean {
    let trusted = this.connectionsChecked();
    for (const replid of replids) {
      const turn = this.confirmed.get(replid);
      if (turn !== undefined && turn <= mark) continue;
      trusted = false;
      if (turn === undefined && /^[0-9a-f]{40}$/.test(replid)) void this.confirm([replid]).then(() => this.adopt(replid), ignore);
    }
    return trusted;
  }

  private adopt(replid: string): void {
    if (!this.confirmed.has(replid)) this.confirmed.set(replid, ++this.turn);
  }

  /** Every master connection confirmed since it connected; those that are not are checked (or connected) now. */
  connectionsChecked(): boolean {
    let all = true;
    for (const node of this.masters()) {
      if (this.checked.has(node)) continue;
      all = false;
      this.watch(node);
      if (node.status === 'ready') void this.checkConnection(node);
      else if (node.status === 'wait') node.connect().catch(ignore);
    }
    return all;
  }

  /** Resolves once every master connection has been confirmed (the store's `ready`). */
  async settle(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.connectionsChecked() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  /** The server behind `node`: its run id and replication id, confirmed against the histories seen. */
  private checkConnection(node: Redis): Promise<void> {
    const running = this.checking.get(node);
    if (running !== undefined) return running;
    const closes = this.closes.get(node) ?? 0;
    const check = (async () => {
      try {
        const [server, replication] = await Promise.all([node.info('server'), node.info('replication')]);
        if (!/^role:master\s*$/m.test(replication)) return; // a replica: not read from
        const runId = /^run_id:([0-9a-f]+)\s*$/m.exec(server)?.[1];
        const replid = /^master_replid:([0-9a-f]+)\s*$/m.exec(replication)?.[1];
        if (runId === undefined || replid === undefined) return;
        await this.confirm([`run:${runId}`, replid]);
        this.adopt(replid);
        // Answered by the server of this connection, not of one that closed meanwhile.
        if (node.status === 'ready' && (this.closes.get(node) ?? 0) === closes) {
          this.checked.add(node);
          this.turn++; // reads sent before this check do not count as after it
        }
      } catch {
        // Not reachable now: the next read tries again.
      } finally {
        this.checking.delete(node);
      }
    })();
    this.checking.set(node, check);
    return check;
  }

  /** Adopts `ids` as known histories; the first instance to meet one starts a new epoch. */
  private confirm(ids: string[]): Promise<void> {
    const key = ids.join(' ');
    const running = this.confirming.get(key);
    if (running !== undefined) return running;
    const { generationKey, historyKey, versionTtlMs, fresh } = this.options;
    const done = this.client
      .rcAdoptHistory(generationKey, historyKey, fresh(), versionTtlMs, ...ids)
      .then((result) => {
        if (result === 2) {
          this.epochs++;
          logger.log(`Redis history ${ids.join(', ')} is new (a failover, a restart or a new server): entries stored before it are misses`);
        }
      })
      .finally(() => this.confirming.delete(key));
    this.confirming.set(key, done);
    return done;
  }
}

function ignore(): void {
  // best effort: retried by the next read
}

/** Redis's hash tag of `key` (what Cluster hashes), if it has one. */
function hashTag(key: string): string | undefined {
  const start = key.indexOf('{');
  if (start < 0) return undefined;
  const end = key.indexOf('}', start + 1);
  return end > start + 1 ? key.slice(start + 1, end) : undefined;
}

/** A key in the same Cluster slot as `key` (the generation's), for the set of histories. */
export function historyKeyBeside(key: string): string {
  if (hashTag(key) !== undefined) return `${key}:histories`;
  if (key.includes('}')) return `${key}:histories`; // only on a single node; see the README's prefix rules
  return `{${key}}:histories`;
}
