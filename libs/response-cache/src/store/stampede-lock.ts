/**
 * Cross-instance stampede protection: one instance at a time fills a cold key; the others wait
 * for it to land (woken by a message, not by polling) for a bounded time, then read it, or fall
 * through to their own handler.
 */
export interface StampedeLock {
  /** A token when this instance now holds the lease for `key`; undefined when another one does. */
  acquire(key: string): Promise<string | undefined>;
  /** Gives the lease up (only if it is still ours) and wakes the instances waiting for `key`. */
  release(key: string, token: string): Promise<void>;
  /** Resolves true when the holder announces that `key` landed, false after `timeoutMs`. */
  waitFor(key: string, timeoutMs: number): Promise<boolean>;
  close?(): Promise<void>;
}
