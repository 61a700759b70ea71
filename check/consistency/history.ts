/**
 * The history of a consistency run and its check. Keys are post ids; a value is a post's title
 * (every write sets a title that no other write uses) or ABSENT (before its creation, after its
 * deletion). A read that began after a write was acknowledged must not return a value that the
 * write had already replaced: that is the only rule, and it is checked for every key a read saw.
 */
export const ABSENT = '(absent)';

export interface Write {
  key: number;
  value: string;
  start: number;
  end: number;
  /** Acknowledged (2xx). A write whose request failed (5xx, timeout) may or may not have happened. */
  acknowledged: boolean;
  /** For the report of a violation: the request and the instance that answered it. */
  method?: string;
  instance?: number;
}

export interface Read {
  start: number;
  end: number;
  /** What the read returned for each key it covers (an item read covers one key; a list read all known keys). */
  values: Map<number, string>;
  instance: number;
  /** For the report of a violation: the path read and how the cache answered (X-Cache, Cache-Status, Age). */
  path?: string;
  xCache?: string | null;
  cacheStatus?: string | null;
  age?: string | null;
}

export interface Verdict {
  /** Reads checked, counted once per key they returned. */
  observations: number;
  /** Observations older than the allowance permits. */
  violations: { key: number; value: string; readStart: number; lagMs: number; instance: number }[];
  /** For every observation that returned replaced data: how long after the replacing write's acknowledgement the read began. */
  lagsMs: number[];
}

/**
 * Checks every read against the writes: the value it returned must come from a write that began
 * before the read ended, and no acknowledged write to the same key may have begun after that
 * write was acknowledged and ended more than `allowanceMs` before the read began.
 */
export function checkHistory(writes: Write[], reads: Read[], allowanceMs: number): Verdict {
  const byKey = new Map<number, Write[]>();
  for (const write of writes) {
    const history = byKey.get(write.key);
    if (history === undefined) byKey.set(write.key, [write]);
    else history.push(write);
  }
  const verdict: Verdict = { observations: 0, violations: [], lagsMs: [] };
  for (const read of reads) {
    for (const [key, value] of read.values) {
      verdict.observations++;
      const history = byKey.get(key) ?? [];
      // The writes that could have produced the value (ABSENT: also the state before the key was created).
      const sources = history.filter((w) => w.value === value && w.start < read.end);
      const initial = value === ABSENT ? [{ key, value, start: -Infinity, end: -Infinity, acknowledged: true }] : [];
      const candidates = [...initial, ...sources];
      if (candidates.length === 0) {
        verdict.violations.push({ key, value, readStart: read.start, lagMs: Infinity, instance: read.instance });
        continue;
      }
      // The latest the observed value can have been written; an unacknowledged write may land at any time.
      const writtenBy = Math.max(...candidates.map((w) => (w.acknowledged ? w.end : Infinity)));
      const replacedAt = Math.min(
        ...history.filter((w) => w.acknowledged && w.value !== value && w.start > writtenBy && w.end < read.start).map((w) => w.end),
      );
      if (replacedAt === Infinity) continue;
      const lagMs = read.start - replacedAt;
      verdict.lagsMs.push(lagMs);
      if (lagMs > allowanceMs) verdict.violations.push({ key, value, readStart: read.start, lagMs, instance: read.instance });
    }
  }
  return verdict;
}

/** The p-th percentile (0..100) of `values`, 0 for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
