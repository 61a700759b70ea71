import { ABSENT, Read, Write, checkHistory } from '../check/consistency/history';
import { DEFAULTS, Store, TIERED_WINDOW_MS, checkConsistency, summaryLine } from '../check/consistency/run';

const write = (key: number, value: string, start: number, end: number, acknowledged = true): Write => ({
  key,
  value,
  start,
  end,
  acknowledged,
});
const read = (key: number, value: string, start: number, end: number): Read => ({
  start,
  end,
  values: new Map([[key, value]]),
  instance: 0,
});

describe('the consistency check of a history', () => {
  const writes = [write(1, 'a', 0, 10), write(1, 'b', 20, 30), write(1, ABSENT, 50, 60)];

  it('flags a read that began after a write was acknowledged and returned what it replaced', () => {
    const verdict = checkHistory(writes, [read(1, 'a', 35, 40)], 0);
    expect(verdict.violations).toEqual([{ key: 1, value: 'a', readStart: 35, lagMs: 5, instance: 0 }]);
    expect(verdict.lagsMs).toEqual([5]);
  });

  it('accepts either value while the replacing write is in flight, and the new value after it', () => {
    expect(checkHistory(writes, [read(1, 'a', 25, 28), read(1, 'b', 25, 28), read(1, 'b', 31, 33)], 0).violations).toEqual([]);
  });

  it('flags the state before a key was created once its creation was acknowledged, and a deleted key read after the delete', () => {
    expect(checkHistory(writes, [read(1, ABSENT, -5, -1), read(1, ABSENT, 61, 62)], 0).violations).toEqual([]);
    expect(checkHistory(writes, [read(1, ABSENT, 12, 14)], 0).violations).toHaveLength(1);
    expect(checkHistory(writes, [read(1, 'b', 61, 62)], 0).violations).toHaveLength(1);
  });

  it('flags a value no write produced, or one written only after the read ended', () => {
    expect(checkHistory(writes, [read(1, 'zzz', 35, 40)], 0).violations).toHaveLength(1);
    expect(checkHistory(writes, [read(1, 'b', 12, 15)], 0).violations).toHaveLength(1);
  });

  it('an unacknowledged write may land at any time; an allowance forgives lag up to it', () => {
    const unsure = [write(2, 'x', 0, 10), write(2, 'y', 20, 30, false), write(2, 'z', 40, 45)];
    expect(checkHistory(unsure, [read(2, 'y', 100, 101)], 0).violations).toEqual([]);
    expect(checkHistory(unsure, [read(2, 'x', 50, 51)], 0).violations).toHaveLength(1);
    expect(checkHistory(unsure, [read(2, 'x', 50, 51)], 10).violations).toEqual([]);
  });
});

/**
 * The short form of `npm run check:consistency`: three demo processes on one PostgreSQL and one
 * Redis, writers and readers through all of them, Redis paused and then killed in the middle.
 */
describe('several demo processes under concurrent writes, with Redis paused and killed', () => {
  const short = { ...DEFAULTS, durationMs: 6_000, faultMs: 1_000 };

  it.each(['redis', 'tiered'] as Store[])(
    '%s store: no read returns data replaced by an acknowledged write',
    async (store) => {
      const report = await checkConsistency({ ...short, store, allowanceMs: store === 'tiered' ? TIERED_WINDOW_MS : 0 });
      expect(summaryLine(report)).toMatch(/^consistency: \d+ operations, 0 violations, \d+ failed requests/);
      expect(report.examples).toEqual([]);
      expect(report.operations).toBeGreaterThan(300);
      expect(report.hitRatio).toBeGreaterThan(0); // the cache was in the path
    },
    120_000,
  );

  it.each(['redis-sentinel', 'redis-cluster'] as Store[])(
    '%s: no read returns replaced data across failovers that lose acknowledged writes on the promoted replica',
    async (store) => {
      const report = await checkConsistency({ ...short, durationMs: 8_000, store, allowanceMs: 0 });
      expect(summaryLine(report)).toMatch(/^consistency: \d+ operations, 0 violations, \d+ failed requests/);
      expect(report.examples).toEqual([]);
      expect(report.failovers).toBe(2);
      expect(report.hitRatio).toBeGreaterThan(0);
    },
    180_000,
  );

  it('the check fails where it must: memory stores on several instances do not see each other’s invalidations', async () => {
    const report = await checkConsistency({ ...short, store: 'memory', faults: false, durationMs: 4_000 });
    expect(report.violations).toBeGreaterThan(0);
  }, 120_000);
});
