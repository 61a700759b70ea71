import type { RedisClient } from './redis.store';

export interface BusHeartbeatOptions {
  /** The subscribed connection (PING is allowed in subscriber mode). */
  client: RedisClient;
  /** How often a PING is sent (one at a time). */
  intervalMs: number;
  /** How old the last answered PING may be before the bus counts as stalled. */
  timeoutMs: number;
  onStall(): void;
  onRecover(): void;
}

/**
 * Proves that a subscribed connection is still delivering. A Redis that hangs (SIGSTOP, a stalled
 * network) keeps the TCP connection open, so no `close` event says that invalidation messages have
 * stopped arriving; a PING answered on the same connection says that everything published before it
 * was processed has been delivered. Past `timeoutMs` since the last answered PING was sent, the bus
 * is stalled; the next answer recovers it. Timers are unref'd: it never keeps a process alive.
 */
export class BusHeartbeat {
  private lastAnsweredSentAt = performance.now();
  private inFlight = false;
  private stalled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: BusHeartbeatOptions) {
    this.timer = setInterval(() => this.beat(), options.intervalMs);
    this.timer.unref();
  }

  /** Whether the last PING answered recently enough. */
  get healthy(): boolean {
    return !this.stalled;
  }

  /** Starts the clock again (a new subscription proves the connection as a PING would). */
  reset(): void {
    this.lastAnsweredSentAt = performance.now();
    this.stalled = false;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private beat(): void {
    const now = performance.now();
    if (!this.stalled && now - this.lastAnsweredSentAt > this.options.timeoutMs) {
      this.stalled = true;
      this.options.onStall();
    }
    if (this.inFlight || this.options.client.status !== 'ready') return;
    this.inFlight = true;
    this.options.client.ping().then(
      () => {
        this.inFlight = false;
        this.lastAnsweredSentAt = now;
        if (this.stalled && performance.now() - now <= this.options.timeoutMs) {
          this.stalled = false;
          this.options.onRecover();
        }
      },
      () => (this.inFlight = false),
    );
  }
}
