import { Logger } from '@nestjs/common';
import { EdgePurgeError } from './edge-adapter';
import { edgeKeys } from './edge-keys';
import type { ResolvedEdge } from './edge-adapter';

/** The `result` label of `cache_edge_purges_total`: per purge request sent to the edge. */
export type EdgePurgeResult = 'ok' | 'error' | 'timeout';

/** Retries of a failed purge: 250 ms, doubling, at most 30 s apart. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 30_000;
/** How long a purge sent in the background may take. */
const BACKGROUND_TIMEOUT_MS = 5000;

interface Retry {
  since: number;
  attempts: number;
  dueAt: number;
  /** When it last failed: a success of a request sent before that does not cover it. */
  failedAt: number;
  lastError: string;
}

/** What the admin API and the CLI show of the edge. */
export interface EdgeStatus {
  edge: string;
  softPurge: boolean;
  purgeTimeoutMs: number;
  repurgeAfterMs: number;
  /** Keys whose purge failed or timed out, waiting for a retry. */
  pending: number;
  /** Age of the oldest of them, ms. */
  oldestPendingMs: number | undefined;
  /** Keys waiting for their second purge ({@link ResolvedEdge.repurgeAfterMs}). */
  scheduledRepurges: number;
  purges: Record<EdgePurgeResult, number>;
  lastError: string | undefined;
  /** Up to 20 of the pending keys, oldest first. */
  pendingKeys: { key: string; attempts: number; ageMs: number; lastError: string }[];
}

/**
 * Purges the edge by surrogate key when tags are invalidated. The caller (a write, the admin
 * API) waits for the purge at most `purgeTimeoutMs`; a purge that fails or times out is retried
 * in the background with backoff until the edge takes it, counted, and logged once per burst of
 * failures (and once when the burst ends). It never throws. Every purge is sent again after
 * `repurgeAfterMs`, for the responses that were on their way to the edge during the first one.
 */
export class EdgePurger {
  private readonly logger = new Logger('ResponseCache');
  private readonly retries = new Map<string, Retry>();
  private readonly repurges = new Map<string, number>();
  private readonly counts: Record<EdgePurgeResult, number> = { ok: 0, error: 0, timeout: 0 };
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  private burstFailures = 0;
  private lastError: string | undefined;
  private draining = false;
  private stopped = false;

  constructor(
    private readonly edge: ResolvedEdge | undefined,
    private readonly report: (edge: string, result: EdgePurgeResult) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.edge !== undefined;
  }

  /** Purges the surrogate keys of `tags`; resolves within the purge timeout, whatever the edge does. */
  async purge(tags: readonly string[]): Promise<void> {
    const edge = this.edge;
    if (edge === undefined || this.stopped) return;
    const keys = edgeKeys(tags);
    if (keys.length === 0) return;
    if (edge.repurgeAfterMs > 0) {
      const dueAt = this.now() + edge.repurgeAfterMs;
      for (const key of keys) this.repurges.set(key, dueAt);
      this.schedule(dueAt);
    }
    await this.send(keys, edge.purgeTimeoutMs);
  }

  /** Sends `keys` in batches, each bounded by `timeoutMs`; what fails joins the retries. Resolves within `timeoutMs`. */
  private async send(keys: readonly string[], timeoutMs: number): Promise<void> {
    const edge = this.edge!;
    const controller = new AbortController();
    const batches: string[][] = [];
    for (let i = 0; i < keys.length; i += edge.adapter.maxKeysPerPurge) batches.push(keys.slice(i, i + edge.adapter.maxKeysPerPurge));
    const unsettled = new Set(batches);
    const sentAt = this.now();
    let timer: NodeJS.Timeout | undefined;
    const sent = Promise.all(
      batches.map(async (batch) => {
        try {
          await edge.adapter.purge(batch, { soft: edge.softPurge, signal: controller.signal });
          if (!unsettled.delete(batch)) return; // answered after its timeout: the retry is already queued
          this.count('ok');
          this.succeeded(batch, sentAt);
        } catch (error) {
          if (!unsettled.delete(batch)) return;
          this.count(controller.signal.aborted ? 'timeout' : 'error');
          this.failed(batch, error);
        }
      }),
    );
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        // An adapter that ignores the signal must not hold the caller: its batches are retried.
        for (const batch of unsettled) {
          this.count('timeout');
          this.failed(batch, new EdgePurgeError(`no answer within ${timeoutMs} ms`));
        }
        unsettled.clear();
        resolve();
      }, timeoutMs);
      timer.unref?.();
    });
    await Promise.race([sent, timeout]);
    clearTimeout(timer);
  }

  private count(result: EdgePurgeResult): void {
    this.counts[result]++;
    this.report(this.edge!.adapter.name, result);
  }

  private succeeded(batch: readonly string[], sentAt: number): void {
    for (const key of batch) if ((this.retries.get(key)?.failedAt ?? -Infinity) <= sentAt) this.retries.delete(key);
    if (this.retries.size === 0 && this.burstFailures > 0) {
      this.logger.log(`edge purges (${this.edge!.adapter.name}) recovered: all purged after ${this.burstFailures} failed request(s)`);
      this.burstFailures = 0;
    }
  }

  private failed(batch: readonly string[], error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.lastError = message;
    if (this.burstFailures++ === 0) {
      this.logger.warn(
        `edge purge (${this.edge!.adapter.name}) failed: ${message}; retried in the background with backoff ` +
          `(the write was answered; further failures are not logged until the purges go through)`,
      );
    }
    const now = this.now();
    const wait = error instanceof EdgePurgeError && error.retryAfterMs !== undefined ? error.retryAfterMs : undefined;
    let earliest = Infinity;
    for (const key of batch) {
      const retry = this.retries.get(key) ?? { since: now, attempts: 0, dueAt: now, failedAt: now, lastError: message };
      retry.attempts++;
      retry.failedAt = now;
      retry.lastError = message;
      retry.dueAt = now + (wait ?? Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (retry.attempts - 1)));
      this.retries.set(key, retry);
      earliest = Math.min(earliest, retry.dueAt);
    }
    this.schedule(earliest);
  }

  private schedule(at: number): void {
    if (this.stopped || at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => void this.drain(), Math.max(0, at - this.now()));
    this.timer.unref?.();
  }

  /** Sends every retry and repurge that is due; schedules the next. */
  private async drain(): Promise<void> {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.draining || this.stopped) return;
    this.draining = true;
    try {
      const now = this.now();
      const due = new Set<string>();
      for (const [key, at] of this.repurges) {
        if (at > now) continue;
        due.add(key);
        this.repurges.delete(key);
      }
      for (const [key, retry] of this.retries) if (retry.dueAt <= now) due.add(key);
      if (due.size > 0) await this.send([...due], Math.max(BACKGROUND_TIMEOUT_MS, this.edge!.purgeTimeoutMs));
    } finally {
      this.draining = false;
    }
    let next = Infinity;
    for (const at of this.repurges.values()) next = Math.min(next, at);
    for (const retry of this.retries.values()) next = Math.min(next, retry.dueAt);
    if (next < Infinity) this.schedule(next);
  }

  /** The edge's purges for the admin API and the CLI; undefined without an edge. */
  status(): EdgeStatus | undefined {
    const edge = this.edge;
    if (edge === undefined) return undefined;
    const now = this.now();
    const pending = [...this.retries].sort((a, b) => a[1].since - b[1].since);
    return {
      edge: edge.adapter.name,
      softPurge: edge.softPurge,
      purgeTimeoutMs: edge.purgeTimeoutMs,
      repurgeAfterMs: edge.repurgeAfterMs,
      pending: pending.length,
      oldestPendingMs: pending.length === 0 ? undefined : now - pending[0][1].since,
      scheduledRepurges: this.repurges.size,
      purges: { ...this.counts },
      lastError: this.lastError,
      pendingKeys: pending
        .slice(0, 20)
        .map(([key, retry]) => ({ key, attempts: retry.attempts, ageMs: now - retry.since, lastError: retry.lastError })),
    };
  }

  /** Resolves once nothing is pending or `timeoutMs` passed (orderly shutdown, tests). */
  async settle(timeoutMs = 5000): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    while (this.retries.size + this.repurges.size > 0 && this.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.retries.size + this.repurges.size === 0;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
