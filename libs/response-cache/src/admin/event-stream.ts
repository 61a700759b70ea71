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
  /** Events waiting for the socket. */
  queued: number;
  /** Events written to the socket (reports not counted). */
  sent: number;
  sampledOut: number;
  dropped: number;
  waitingForDrain: boolean;
}

/** How often left-out events are reported, and how many timer ticks between keep-alive comments. */
const REPORT_INTERVAL_MS = 1000;
const HEARTBEAT_EVERY_TICKS = 15;

/**
 * One client of `GET /admin/cache/events`. Memory stays bounded whatever the client does:
 * - a token bucket sends at most `maxEventsPerSecond`; events beyond are counted (sampled out);
 * - events wait in a queue of at most `bufferSize` while the socket does not drain; the oldest
 *   are dropped beyond, and nothing more is written until `drain`;
 * - a `sampled` event tells the client how many events it did not get, by type. It is due a second
 *   (on the cache's clock) after the last one, or when the timer ticks, and is made when the next
 *   write goes out, at its end, so a report is never itself dropped and ids keep increasing.
 */
export class EventStream {
  private queue: string[] = [];
  private tokens: number;
  private refilledAt: number;
  private nextId = 1;
  private sent = 0;
  private sampledOut = 0;
  private dropped = 0;
  private unreported = { sampledOut: 0, dropped: 0, byType: {} as Record<string, number> };
  private reportedAt: number;
  private reportDue = false;
  private waitingForDrain = false;
  private flushScheduled = false;
  private closed = false;
  private ticks = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly sink: EventSink,
    private readonly limits: Required<EventStreamOptions>,
    private readonly clock: Clock,
  ) {
    this.tokens = limits.maxEventsPerSecond;
    this.refilledAt = clock.now();
    this.reportedAt = this.refilledAt;
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
    const now = this.clock.now();
    if (!this.take(now)) {
      this.sampledOut++;
      this.unreported.sampledOut++;
      this.unreported.byType[event.type] = (this.unreported.byType[event.type] ?? 0) + 1;
      return;
    }
    if (now - this.reportedAt >= REPORT_INTERVAL_MS) this.reportDue = true;
    this.queue.push(this.format(event.type, { ...event, at: new Date(now).toISOString() }));
    if (this.queue.length > this.limits.bufferSize) {
      this.queue.shift();
      this.dropped++;
      this.unreported.dropped++;
    }
    this.scheduleFlush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.queue = [];
    this.sink.end();
  }

  private tick(): void {
    this.reportDue = true;
    this.scheduleFlush();
    if (++this.ticks % HEARTBEAT_EVERY_TICKS === 0 && this.queue.length === 0 && !this.waitingForDrain) this.sink.write(': keep-alive\n\n');
  }

  private take(now: number): boolean {
    const rate = this.limits.maxEventsPerSecond;
    if (now > this.refilledAt) {
      this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) / 1000) * rate);
      this.refilledAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  private format(type: string, data: object): string {
    return `id: ${this.nextId++}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  /** The `sampled` event, if one is due and anything was left out since the last. */
  private takeReport(): string | undefined {
    const { sampledOut, dropped, byType } = this.unreported;
    if (!this.reportDue || (sampledOut === 0 && dropped === 0)) return undefined;
    this.reportDue = false;
    this.reportedAt = this.clock.now();
    this.unreported = { sampledOut: 0, dropped: 0, byType: {} };
    return this.format('sampled', { sampledOut, dropped, byType, at: new Date(this.reportedAt).toISOString() });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.waitingForDrain || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.waitingForDrain) return;
    const batch = this.queue;
    const report = this.takeReport();
    if (report === undefined && batch.length === 0) return;
    this.queue = [];
    this.sent += batch.length;
    if (!this.sink.write(batch.join('') + (report ?? ''))) {
      this.waitingForDrain = true;
      this.sink.once('drain', () => {
        this.waitingForDrain = false;
        this.flush();
      });
    }
  }
}
