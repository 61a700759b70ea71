/**
 * Lets a fault schedule hold the workload's writers: `close()` resolves once the writes in flight
 * have ended, and no write starts until `open()`. A failover that loses invalidations is only
 * visible when no later write to the same tag lands on the new master (the replay of a write whose
 * invalidation failed during the failover bumps the tag again and hides the loss), so the schedule
 * holds writes from just before the master dies until the instances read from the new one.
 */
export class WriteGate {
  private closed?: Promise<void>;
  private release?: () => void;
  private inFlight = 0;
  private idle?: () => void;

  async enter(): Promise<void> {
    while (this.closed !== undefined) await this.closed;
    this.inFlight++;
  }

  leave(): void {
    this.inFlight--;
    if (this.inFlight === 0) this.idle?.();
  }

  async close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => (this.release = resolve));
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    this.idle = undefined;
  }

  open(): void {
    const release = this.release;
    this.closed = undefined;
    this.release = undefined;
    release?.();
  }
}
