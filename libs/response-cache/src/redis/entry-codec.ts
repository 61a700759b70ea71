import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzip } from 'node:zlib';
import type { CacheEntry } from '../store/cache-store';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** "RC" + format version. Entries of another version or shape decode to undefined (a miss). */
const MAGIC = Buffer.from('RC1');
const FLAG_GZIP = 1;
const SYNC_INFLATE_BELOW = 16 * 1024;

export interface CodecOptions {
  /** Compress bodies larger than this many bytes (when compression is on). */
  compressionThresholdBytes: number;
  compression: boolean;
}

interface Meta {
  /** Retained until (ms since epoch): checked on read against the store's clock. */
  r: number;
  s: number;
  h: Record<string, string>;
  e: string;
  t: number;
  x: number;
  ft: string[];
  fv: number[];
}

/**
 * Binary layout: `RC1`, one flag byte, a 4-byte meta length, the meta JSON (status, headers,
 * ETag, times, fence), then the body bytes (gzip-compressed above the threshold when that makes
 * them smaller). Compression runs off the event loop (zlib's thread pool).
 */
export async function encodeEntry(entry: CacheEntry, retainUntil: number, options: CodecOptions): Promise<Buffer> {
  const meta: Meta = {
    r: retainUntil,
    s: entry.status,
    h: entry.headers,
    e: entry.etag,
    t: entry.storedAt,
    x: entry.expiresAt,
    ft: [...entry.fence.tags],
    fv: [...entry.fence.versions],
  };
  const metaBytes = Buffer.from(JSON.stringify(meta));
  let body: Buffer = Buffer.from(entry.body, 'utf8');
  let flags = 0;
  if (entry.gzip !== undefined) {
    body = entry.gzip; // already compressed for compressed hits: stored as it is
    flags |= FLAG_GZIP;
  } else if (options.compression && body.length > options.compressionThresholdBytes) {
    const compressed = await gzipAsync(body);
    if (compressed.length < body.length) {
      body = compressed;
      flags |= FLAG_GZIP;
    }
  }
  const header = Buffer.alloc(MAGIC.length + 5);
  MAGIC.copy(header);
  header.writeUInt8(flags, MAGIC.length);
  header.writeUInt32BE(metaBytes.length, MAGIC.length + 1);
  return Buffer.concat([header, metaBytes, body]);
}

function isMeta(value: unknown): value is Meta {
  const m = value as Meta;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.r === 'number' &&
    Number.isInteger(m.s) &&
    typeof m.h === 'object' &&
    m.h !== null &&
    typeof m.e === 'string' &&
    typeof m.t === 'number' &&
    typeof m.x === 'number' &&
    Array.isArray(m.ft) &&
    Array.isArray(m.fv) &&
    m.ft.length === m.fv.length
  );
}

export interface DecodedEntry {
  entry: CacheEntry;
  retainUntil: number;
}

/** The entry, or undefined for anything that is not a well-formed entry of this version. */
export async function decodeEntry(raw: Buffer): Promise<DecodedEntry | undefined> {
  try {
    if (raw.length < MAGIC.length + 5 || !raw.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const flags = raw.readUInt8(MAGIC.length);
    const metaLength = raw.readUInt32BE(MAGIC.length + 1);
    const metaStart = MAGIC.length + 5;
    if (metaStart + metaLength > raw.length) return undefined;
    const meta: unknown = JSON.parse(raw.subarray(metaStart, metaStart + metaLength).toString('utf8'));
    if (!isMeta(meta)) return undefined;
    let body = raw.subarray(metaStart + metaLength);
    let gzip: Buffer | undefined;
    if ((flags & FLAG_GZIP) !== 0) {
      gzip = Buffer.from(body); // a copy, not a view that pins the whole reply buffer
      // Small bodies inflate faster in place than with a round trip through zlib's thread pool.
      body = body.length < SYNC_INFLATE_BELOW ? gunzipSync(body) : await gunzipAsync(body);
    }
    const entry: CacheEntry = {
      status: meta.s,
      headers: meta.h,
      body: body.toString('utf8'),
      ...(gzip === undefined ? {} : { gzip }),
      etag: meta.e,
      storedAt: meta.t,
      expiresAt: meta.x,
      fence: { tags: meta.ft, versions: meta.fv },
    };
    return { entry, retainUntil: meta.r };
  } catch {
    return undefined;
  }
}
