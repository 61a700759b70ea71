import { LRUCache } from 'lru-cache';
import { bodyBytes } from '../store/body-bytes';
import type { CacheEntry } from '../store/cache-store';
import { DecodedEntry, decodeEntry } from './entry-codec';

/** Bytes of entries kept decoded, per store. */
const MAX_BYTES = 4 * 1024 * 1024;

/**
 * What a kept entry holds, counted high: its bytes, its body as a string (2 bytes a character) and
 * as bytes, and its gzip copy (an entry stored compressed is inflated: its body may be far larger
 * than the bytes read).
 */
function heldBytes(raw: Buffer, entry: CacheEntry): number {
  return 256 + raw.length + 2 * entry.body.length + bodyBytes(entry).length + (entry.gzip?.length ?? 0);
}

/**
 * The entries a store decoded last, by key, with the very bytes they were decoded from. A read
 * whose bytes are the same (compared in full) takes the decoded entry instead of checking,
 * parsing and copying it again; any other bytes are decoded. It saves work, never a round trip:
 * what Redis holds is read, and its fence checked, on every hit. Bounded in bytes.
 */
export class DecodedEntries {
  private readonly decoded = new LRUCache<string, { raw: Buffer; decoded: DecodedEntry; size: number }>({
    maxSize: MAX_BYTES,
    sizeCalculation: ({ size }) => size,
  });

  /** Bytes held by the entries kept (what the bound counts). */
  get sizeBytes(): number {
    return this.decoded.calculatedSize;
  }

  /** The entry in `raw` (undefined: not a well-formed entry); at once when these bytes were decoded last. */
  decode(key: string, raw: Buffer): DecodedEntry | Promise<DecodedEntry | undefined> {
    const known = this.decoded.get(key);
    if (known !== undefined && known.raw.equals(raw)) return known.decoded;
    return raw.length > MAX_BYTES / 16 ? decodeEntry(raw) : this.decodeAndKeep(key, raw);
  }

  private async decodeAndKeep(key: string, raw: Buffer): Promise<DecodedEntry | undefined> {
    // A reply is a view of the socket's chunk: what is kept (and the entry's views) must not pin it.
    const own = Buffer.allocUnsafeSlow(raw.length);
    raw.copy(own);
    const decoded = await decodeEntry(own);
    const size = decoded === undefined ? 0 : heldBytes(own, decoded.entry);
    if (decoded === undefined || size > MAX_BYTES / 16) this.decoded.delete(key);
    else this.decoded.set(key, { raw: own, decoded, size });
    return decoded;
  }
}
