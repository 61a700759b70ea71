import type { RedisClient } from './redis-client';

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
 * was processed has been delivered. A PING unanswered for `timeoutMs` (and two more turns of the
 * event loop, for a process that is merely busy) means the bus has stalled; the next answer
 * recovers it. The timer is unref'd: it never keeps a process alive.
 */
export class BusHeartbeat {
  /** The PING waiting for its answer, if any (one at a time). */
  private inFlight?: { sentAt: number };
  private confirming = false;
  private stalled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: BusHeartbeatOptions) {
    this.timer = setInterval(() => this.beat(), options.intervalMs);
    this.timer.unref();
  }

  /** False from a stall until the next answered PING. */
  get healthy(): boolean {
    return !this.stalled;
  }

  /** A new subscription proves the connection as an answered PING would. */
  reset(): void {
    this.inFlight = undefined;
    this.stalled = false;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private beat(): void {
    const now = performance.now();
    const waiting = this.inFlight;
    if (waiting !== undefined) {
      if (!this.stalled && !this.confirming && now - waiting.sentAt > this.options.timeoutMs) this.confirm(waiting, 2);
      return;
    }
    if (this.options.client.status !== 'ready') return;
    const ping = { sentAt: now };
    this.inFlight = ping;
    this.options.client.ping().then(
      () => {
        if (this.inFlight === ping) this.inFlight = undefined;
        if (this.stalled) {
          this.stalled = false;
          this.options.onRecover();
        }
      },
      () => {
        if (this.inFlight === ping) this.inFlight = undefined;
      },
    );
  }

  /**
   * A PING past its deadline means a stall only if it is still unanswered after `turns` more turns
   * of the event loop: under load its answer may be waiting behind this process's own work, and a
   * busy process must not flush its L1 over and over.
   */
  private confirm(ping: { sentAt: number }, turns: number): void {
    this.confirming = true;
    setImmediate(() => {
      if (this.inFlight !== ping || this.stalled) return void (this.confirming = false);
      if (turns > 1) return this.confirm(ping, turns - 1);
      this.confirming = false;
      this.stalled = true;
      this.options.onStall();
    });
  }
}
