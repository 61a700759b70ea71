import { promisify } from 'node:util';
import { crc32, gunzip, gunzipSync, gzip } from 'node:zlib';
import { rememberBodyBytes } from '../store/body-bytes';
import type { CacheEntry } from '../store/cache-store';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** "RC" + format version. Entries of another version or shape decode to undefined (a miss). */
const MAGIC = Buffer.from('RC3');
/** Magic, flags (1), meta length (4), body length (4), gzip copy length (4), CRC-32 of the rest (4). */
const HEADER_LENGTH = MAGIC.length + 17;
/** The body is stored compressed (an entry without a gzip copy, above the threshold): inflated on read. */
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
  /** The entry's variant, when its response varies on request headers. */
  v?: string;
}

/**
 * Binary layout: `RC3`, one flag byte, the meta, body and gzip-copy lengths (4 bytes each), a
 * CRC-32 of what follows (4 bytes), the meta JSON (status, headers, ETag, times, fence), the body
 * bytes, then the entry's gzip copy if it has one. A hit reads the body and the copy as they are
 * (no inflating, no compressing); only an entry without a copy (the value API, compression off in
 * the module) stores its body compressed above the threshold, and is inflated on read. A frame
 * whose lengths or checksum do not match (truncated, garbled) decodes as a miss. Compression runs
 * off the event loop (zlib's thread pool).
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
    ...(entry.variant === undefined ? {} : { v: entry.variant }),
  };
  const metaBytes = Buffer.from(JSON.stringify(meta));
  let body: Buffer = Buffer.from(entry.body, 'utf8');
  let flags = 0;
  // An entry with a gzip copy (compressed hits) keeps both, so that no hit inflates or compresses.
  const copy = entry.gzip ?? EMPTY;
  if (entry.gzip === undefined && options.compression && body.length > options.compressionThresholdBytes) {
    const compressed = await gzipAsync(body);
    if (compressed.length < body.length) {
      body = compressed;
      flags |= FLAG_GZIP;
    }
  }
  const header = Buffer.alloc(HEADER_LENGTH);
  MAGIC.copy(header);
  header.writeUInt8(flags, MAGIC.length);
  header.writeUInt32BE(metaBytes.length, MAGIC.length + 1);
  header.writeUInt32BE(body.length, MAGIC.length + 5);
  header.writeUInt32BE(copy.length, MAGIC.length + 9);
  header.writeUInt32BE(crc32(copy, crc32(body, crc32(metaBytes))), MAGIC.length + 13);
  return Buffer.concat([header, metaBytes, body, copy]);
}

const EMPTY = Buffer.alloc(0);

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
    m.ft.length === m.fv.length &&
    (m.v === undefined || typeof m.v === 'string')
  );
}

export interface DecodedEntry {
  entry: CacheEntry;
  retainUntil: number;
}

/** The entry, or undefined for anything that is not a well-formed entry of this version. */
export async function decodeEntry(raw: Buffer): Promise<DecodedEntry | undefined> {
  try {
    if (raw.length < HEADER_LENGTH || !raw.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const flags = raw.readUInt8(MAGIC.length);
    const metaLength = raw.readUInt32BE(MAGIC.length + 1);
    const bodyLength = raw.readUInt32BE(MAGIC.length + 5);
    const copyLength = raw.readUInt32BE(MAGIC.length + 9);
    const bodyStart = HEADER_LENGTH + metaLength;
    if (bodyStart + bodyLength + copyLength !== raw.length) return undefined;
    if (crc32(raw.subarray(HEADER_LENGTH)) !== raw.readUInt32BE(MAGIC.length + 13)) return undefined;
    const meta: unknown = JSON.parse(raw.toString('utf8', HEADER_LENGTH, bodyStart));
    if (!isMeta(meta)) return undefined;
    let body = raw.subarray(bodyStart, bodyStart + bodyLength);
    // The gzip copy as it is: a view of the reply, which holds nothing else the hit does not send.
    let gzip: Buffer | undefined = copyLength === 0 ? undefined : raw.subarray(bodyStart + bodyLength);
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
      ...(meta.v === undefined ? {} : { variant: meta.v }),
    };
    // A hit sends these bytes as they are (a view of the reply: it holds nothing the hit does not send but the meta).
    rememberBodyBytes(entry, body);
    return { entry, retainUntil: meta.r };
  } catch {
    return undefined;
  }
}
