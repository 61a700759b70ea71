import { cacheEntry } from '../testing/entry-builder';
import { bodyBytes } from '../store/body-bytes';
import { DecodedEntries } from './decoded-entries';
import { encodeEntry } from './entry-codec';
import { UNKNOWN_VERSION, parseVersion } from './tag-versions';

const codec = { compression: true, compressionThresholdBytes: 1024 };

/** `bytes` as a reply gives them: a view into a larger chunk, as ioredis's decoder returns bulk strings. */
function asReply(bytes: Buffer): Buffer {
  const chunk = Buffer.alloc(bytes.length + 64, 0x2a);
  bytes.copy(chunk, 32);
  return chunk.subarray(32, 32 + bytes.length);
}

describe('DecodedEntries', () => {
  it('returns the entry decoded from the same bytes without decoding them again', async () => {
    const entries = new DecodedEntries();
    const bytes = await encodeEntry(cacheEntry({ body: { id: 1 } }), Date.now() + 60_000, codec);
    const first = await entries.decode('k', asReply(bytes));
    const second = entries.decode('k', asReply(bytes));
    expect(second).not.toBeInstanceOf(Promise);
    expect(second).toBe(first);
    expect(first?.entry.body).toBe('{"id":1}');
  });

  it('checks bytes that differ in a single byte in full: a garbled copy is no entry', async () => {
    const entries = new DecodedEntries();
    const bytes = await encodeEntry(cacheEntry({ body: { id: 1 } }), Date.now() + 60_000, codec);
    await entries.decode('k', asReply(bytes));
    const garbled = Buffer.from(bytes);
    garbled[garbled.length - 3] ^= 0x01; // in the body, after the checksum
    expect(await entries.decode('k', garbled)).toBeUndefined();
    // And the good bytes again decode to the entry.
    expect((await entries.decode('k', asReply(bytes)))?.entry.body).toBe('{"id":1}');
  });

  it('keeps its own copy: the entry does not pin, or change with, the reply chunk it was read from', async () => {
    const entries = new DecodedEntries();
    const bytes = await encodeEntry(cacheEntry({ body: 'abc' }), Date.now() + 60_000, codec);
    const reply = asReply(bytes);
    const decoded = await entries.decode('k', reply);
    const sent = bodyBytes(decoded!.entry);
    expect(sent.buffer).not.toBe(reply.buffer);
    reply.fill(0);
    expect(sent.toString()).toBe('abc');
  });

  it('counts what an entry holds decoded, not the bytes read: a body stored compressed is not kept when it inflates past the bound', async () => {
    const entries = new DecodedEntries();
    // No gzip copy: the store compresses the body itself (the value API); 2 MB of one letter is a few KB on the wire.
    const bytes = await encodeEntry(cacheEntry({ body: 'a'.repeat(2_000_000) }), Date.now() + 60_000, codec);
    expect(bytes.length).toBeLessThan(10_000);
    expect((await entries.decode('big', asReply(bytes)))?.entry.body.length).toBe(2_000_000);
    expect(entries.sizeBytes).toBe(0);
    expect(entries.decode('big', asReply(bytes))).toBeInstanceOf(Promise); // decoded again, not kept
    await entries.decode('small', asReply(await encodeEntry(cacheEntry({ body: 'abc' }), Date.now() + 60_000, codec)));
    expect(entries.sizeBytes).toBeGreaterThan(0);
  });
});

describe('parseVersion', () => {
  it('reads 1 to 15 decimal digits, from a string or bytes; anything else is unknown', () => {
    expect(parseVersion(Buffer.from('1099511627776'))).toBe(1099511627776);
    expect(parseVersion('42')).toBe(42);
    for (const bad of ['', '12a', '-1', ' 1', '1234567890123456', '1.5']) {
      expect(parseVersion(bad)).toBe(UNKNOWN_VERSION);
      expect(parseVersion(Buffer.from(bad))).toBe(UNKNOWN_VERSION);
    }
    expect(parseVersion(null)).toBe(UNKNOWN_VERSION);
    expect(parseVersion(undefined)).toBe(UNKNOWN_VERSION);
    expect(parseVersion(7 as unknown as string)).toBe(UNKNOWN_VERSION);
  });
});
