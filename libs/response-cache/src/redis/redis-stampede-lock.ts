import { randomUUID } from 'node:crypto';
import { quitClient, resubscribeOnReady } from './redis-client';
import type { StampedeLock } from '../store/stampede-lock';
import type { RedisClient } from './redis-client';

export interface RedisStampedeLockOptions {
  client: RedisClient;
  /** A dedicated connection for the "landed" announcements (e.g. `duplicateClient(client)`). */
  subscriber: RedisClient;
  /** Prefix of the lease keys (`<prefix>l:<key>`) and of the channel (`<prefix>landed`). Default `rc:`. */
  prefix?: string;
  /** How long a lease lives if its holder never releases it (crashed), in ms. Default 5000. */
  leaseMs?: number;
  /** Bound on each lock command, in ms. Default 100. */
  timeoutMs?: number;
}

/**
 * KEYS[1] the lease; ARGV[1] our token, ARGV[2] the channel, ARGV[3] the key that landed. The
 * channel is no key (a Cluster routes a script by its keys, and PUBLISH reaches every node), so
 * the script touches one slot and works on Cluster.
 */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return redis.call('PUBLISH', ARGV[2], ARGV[3])`;

type ReleasingClient = RedisClient & { rcRelease(lease: string, token: string, channel: string, key: string): Promise<number> };

/** A short Redis lease per key (SET NX PX); waiters are woken through pub/sub. */
export class RedisStampedeLock implements StampedeLock {
  private readonly client: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly leaseMs: number;
  private readonly timeoutMs: number;
  private readonly waiters = new Map<string, Set<(landed: boolean) => void>>();

  constructor(options: RedisStampedeLockOptions) {
    this.client = options.client;
    this.subscriber = options.subscriber;
    resubscribeOnReady(this.subscriber);
    this.prefix = options.prefix ?? 'rc:';
    this.channel = `${this.prefix}landed`;
    this.leaseMs = options.leaseMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? 100;
    if (typeof (this.client as unknown as { rcRelease?: unknown }).rcRelease !== 'function') {
      this.client.defineCommand('rcRelease', { numberOfKeys: 1, lua: RELEASE });
    }
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, key: string) => {
      if (channel === this.channel) this.wake(key, true);
    });
    const subscribe = () => void this.subscriber.subscribe(this.channel).catch(() => undefined);
    this.subscriber.on('ready', subscribe);
    if (this.subscriber.status === 'ready') subscribe();
  }

  async acquire(key: string): Promise<string | undefined> {
    const token = randomUUID();
    const set = await this.bounded(this.client.set(this.leaseKey(key), token, 'PX', this.leaseMs, 'NX'));
    return set === 'OK' ? token : undefined;
  }

  async release(key: string, token: string): Promise<void> {
    await this.bounded((this.client as unknown as ReleasingClient).rcRelease(this.leaseKey(key), token, this.channel, key));
  }

  waitFor(key: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let set = this.waiters.get(key);
      if (set === undefined) this.waiters.set(key, (set = new Set()));
      const waiter = (landed: boolean) => {
        clearTimeout(timer);
        set.delete(waiter);
        if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
        resolve(landed);
      };
      const timer = setTimeout(() => waiter(false), timeoutMs);
      timer.unref();
      set.add(waiter);
    });
  }

  async close(): Promise<void> {
    for (const key of [...this.waiters.keys()]) this.wake(key, false);
    await quitClient(this.subscriber);
  }

  private leaseKey(key: string): string {
    return `${this.prefix}l:${key}`;
  }

  private wake(key: string, landed: boolean): void {
    for (const waiter of [...(this.waiters.get(key) ?? [])]) waiter(landed);
  }

  private bounded<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`stampede lock: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }
}
