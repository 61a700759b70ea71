import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The memory store's bound is the memory it keeps: filled with many small compressed entries, the
 * heap plus array buffers it holds after a full GC stay within 1.2× the bound, and RSS growth within
 * 2×. Run in a child process (`--expose-gc`) on the built package, so that nothing else in Jest's
 * worker counts.
 */
describe('the memory bound (MemoryCacheStore, maxSizeBytes)', () => {
  it('holds at most 1.2× the bound after GC (2× in RSS) when filled with small gzip entries', async () => {
    const bound = 100 * 1024 * 1024; // zlib's own allocations add a fixed RSS overhead (~80 MB here), small against this
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', join(__dirname, 'support', 'memory-bound-probe.cjs'), String(bound), '60000'],
      { cwd: join(__dirname, '..'), maxBuffer: 1024 * 1024 },
    );
    const figures = JSON.parse(stdout) as { bound: number; entries: number; counted: number; held: number; rssGrowth: number };
    // The store is full (evicting), so the figures measure the bound, not a half-empty store.
    expect(figures.counted).toBeGreaterThan(0.9 * bound);
    expect(figures.entries).toBeLessThan(60000);
    expect(figures.held).toBeLessThanOrEqual(1.2 * bound);
    expect(figures.rssGrowth).toBeLessThanOrEqual(2 * bound);
  }, 60_000);
});
