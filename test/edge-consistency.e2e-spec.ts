import { DEFAULTS, EDGE_WINDOW_MS, checkConsistency, summaryLine } from '../check/consistency/run';

/**
 * The short form of `npm run check:consistency -- --edge varnish`: three demo processes on one
 * PostgreSQL and one Redis, a real Varnish in front of each (every instance purging all of them),
 * readers and writers through the Varnishes, Redis paused and then killed in the middle.
 */
describe('the consistency checker through Varnish', () => {
  it('no read through the edge returns data replaced by an acknowledged write, beyond the purge window', async () => {
    const report = await checkConsistency({
      ...DEFAULTS,
      durationMs: 6_000,
      faultMs: 1_000,
      store: 'redis',
      allowanceMs: EDGE_WINDOW_MS,
      edge: 'varnish',
    });
    expect(summaryLine(report)).toMatch(
      /^consistency: \d+ operations, 0 violations, \d+ failed requests \(redis store, readers through varnish\)/,
    );
    expect(report.examples).toEqual([]);
    expect(report.operations).toBeGreaterThan(300);
    expect(report.edgeHitRatio).toBeGreaterThan(0); // the edge answered some reads itself
    expect(report.lagMaxMs).toBeLessThanOrEqual(EDGE_WINDOW_MS);
  }, 120_000);
});
