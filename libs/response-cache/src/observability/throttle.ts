/**
 * Lets one occurrence through per interval and counts the ones held back (a log line a second
 * for a failure that can repeat on every request).
 */
export class Throttle {
  private last = -Infinity;
  private held = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  /** Undefined while held back; otherwise how many were held back since the last one let through. */
  pass(): number | undefined {
    const now = this.now();
    if (now - this.last < this.intervalMs) {
      this.held++;
      return undefined;
    }
    this.last = now;
    const held = this.held;
    this.held = 0;
    return held;
  }
}
