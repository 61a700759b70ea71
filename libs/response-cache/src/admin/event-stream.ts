import type { Clock } from '../clock';
import type { EventStreamOptions } from '../response-cache.options';
import type { CacheEvent } from '../observability/cache-events';

/** The part of a socket-backed response the stream writes to. */
export interface EventSink {
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
  end(): unknown;
}

/** What a stream holds in memory right now (for tests and the dashboard). */
export interface EventStreamState {
  queued: number;
  sent: number;
  sampledOut: number;
  dropped: number;
  waitingForDrain: boolean;
}

/** How often left-out events are reported, and how many reports between keep-alive comments. */
const REPORT_INTERVAL_MS = 1000;
const HEARTBEAT_EVERY_REPORTS = 15;

/**
 * One client of `GET /admin/cache/events`. Memory stays bounded whatever the client does:
 * - a token bucket sends at most `maxEventsPerSecond`; events beyond are counted (sampled out);
 * - events wait in a queue of at most `bufferSize` while the socket does not drain; the oldest
 *   are dropped beyond, and nothing more is written until `drain`;
 * - once a second, a `sampled` event tells the client how many events it did not get, by type.
 */
export class EventStream {
  private queue: string[] = [];
  private tokens: number;
  private refilledAt: number;
  private nextId = 1;
  private sent = 0;
  private sampledOut = 0;
  private dropped = 0;
  private unreported: { sampledOut: number; dropped: number; byType: Record<string, number> } = { sampledOut: 0, dropped: 0, byType: {} };
  private waitingForDrain = false;
  private flushScheduled = false;
  private closed = false;
  private reports = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly sink: EventSink,
    private readonly limits: Required<EventStreamOptions>,
    private readonly clock: Clock,
  ) {
    this.tokens = limits.maxEventsPerSecond;
    this.refilledAt = clock.now();
    this.timer = setInterval(() => this.tick(), REPORT_INTERVAL_MS);
    this.timer.unref();
    this.sink.write(`retry: 3000\n: cache events, at most ${limits.maxEventsPerSecond}/s\n\n`);
  }

  get state(): EventStreamState {
    return {
      queued: this.queue.length,
      sent: this.sent,
      sampledOut: this.sampledOut,
      dropped: this.dropped,
      waitingForDrain: this.waitingForDrain,
    };
  }

  push(event: CacheEvent): void {
    if (this.closed) return;
    if (!this.take()) {
      this.sampledOut++;
      this.unreported.sampledOut++;
      this.unreported.byType[event.type] = (this.unreported.byType[event.type] ?? 0) + 1;
      return;
    }
    this.enqueue(event.type, { ...event, at: new Date(this.clock.now()).toISOString() });
  }

  /** Sends the count of left-out events now, if any (the timer does it once a second). */
  report(): void {
    const { sampledOut, dropped, byType } = this.unreported;
    if (sampledOut === 0 && dropped === 0) return;
    this.unreported = { sampledOut: 0, dropped: 0, byType: {} };
    this.enqueue('sampled', { sampledOut, dropped, byType, at: new Date(this.clock.now()).toISOString() });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.queue = [];
    this.sink.end();
  }

  private tick(): void {
    this.report();
    if (++this.reports % HEARTBEAT_EVERY_REPORTS === 0 && this.queue.length === 0 && !this.waitingForDrain)
      this.sink.write(': keep-alive\n\n');
  }

  private take(): boolean {
    const now = this.clock.now();
    const rate = this.limits.maxEventsPerSecond;
    if (now > this.refilledAt) {
      this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) / 1000) * rate);
      this.refilledAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  private enqueue(type: string, data: object): void {
    if (this.closed) return;
    this.queue.push(`id: ${this.nextId++}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    if (this.queue.length > this.limits.bufferSize) {
      this.queue.shift();
      this.dropped++;
      this.unreported.dropped++;
    }
    if (!this.flushScheduled && !this.waitingForDrain) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.waitingForDrain || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.sent += batch.length;
    if (!this.sink.write(batch.join(''))) {
      this.waitingForDrain = true;
      this.sink.once('drain', () => {
        this.waitingForDrain = false;
        this.flush();
      });
    }
  }
}
