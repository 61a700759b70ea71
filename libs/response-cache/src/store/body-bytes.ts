import type { CacheEntry, DraftEntry } from './cache-store';

/** The identity body of an entry as bytes, by entry object. */
const bytesOf = new WeakMap<object, Buffer>();

/**
 * The entry's identity body as the bytes a hit sends: encoded once per entry object (a memory or
 * L1 hit returns the same object every time), or the bytes a store read it from (a Redis reply).
 */
export function bodyBytes(entry: CacheEntry | DraftEntry): Buffer {
  let bytes = bytesOf.get(entry);
  if (bytes === undefined) {
    bytes = Buffer.from(entry.body);
    bytesOf.set(entry, bytes);
  }
  return bytes;
}

/** A store that decoded `entry` from `bytes` (its body, UTF-8) hands them on, so a hit does not encode the body again. */
export function rememberBodyBytes(entry: CacheEntry, bytes: Buffer): void {
  bytesOf.set(entry, bytes);
}
