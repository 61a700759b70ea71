import { Logger } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { REPLICATION_ID_LUA } from './failover-guard';
import type { RedisClient } from './redis-client';

/** What a version that is missing (evicted, expired) or unreadable (garbage) reads as: never a recorded one. */
export const UNKNOWN_VERSION = -1;

/**
 * A fill's snapshot: the version under KEYS[1], made now (ARGV[1], with a TTL of ARGV[2] ms) when
 * it is missing, and reset when it is not an integer (or not a string). Returns {version, reset}.
 */
const SNAPSHOT = `
local v = redis.pcall('GET', KEYS[1])
if v == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {ARGV[1], 0}
end
if type(v) ~= 'string' or not string.match(v, '^%d+$') then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {ARGV[1], 1}
end
return {v, 0}`;

/**
 * An invalidation: INCR of the version under KEYS[1]. A missing version has nothing depending on
 * it (a fill's snapshot would have made it): nothing is written. A corrupted one is replaced by a
 * new random version, which invalidates as well. Returns 0 (missing), 1 (bumped), 2 (reset).
 */
const BUMP = `
local v = redis.pcall('GET', KEYS[1])
if v == false then return 0 end
if type(v) ~= 'string' or not string.match(v, '^%d+$') then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
redis.call('INCR', KEYS[1])
return 1`;

/** Keeps the version under KEYS[1] at least ARGV[1] ms more (a stored entry depends on it). */
const EXTEND = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl >= 0 and ttl < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return ttl`;

/**
 * Standalone only: store the entry only if every fence version is still current, atomically, and
 * keep those versions alive at least as long as the entry. KEYS[1] the entry, KEYS[2..] the
 * version keys; ARGV[1] TTL in ms, ARGV[2] the entry bytes, ARGV[3] how long the versions must
 * live, ARGV[4..] the expected versions. A missing or unreadable version refuses the fill.
 */
export const FENCED_SET = `
for i = 2, #KEYS do
  local v = redis.pcall('GET', KEYS[i])
  if type(v) ~= 'string' or v ~= ARGV[i + 2] then return 0 end
end
local keep = tonumber(ARGV[3])
for i = 2, #KEYS do
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl >= 0 and ttl < keep then redis.call('PEXPIRE', KEYS[i], keep) end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
return 1`;

/**
 * A hit in one command: the node's replication id (see {@link REPLICATION_ID_LUA}), then the entry
 * (KEYS[1]) and the versions of its fence tags (the other keys), read atomically; a key of another
 * type (WRONGTYPE) reads as nil. With only version keys, it reads those.
 */
const READ = `${REPLICATION_ID_LUA}
local out = {replid}
for i = 1, #KEYS do
  local v = redis.pcall('GET', KEYS[i])
  if type(v) ~= 'string' then v = false end
  out[i + 1] = v
end
return out`;

type ScriptedClient = RedisClient & {
  /** The replication id, then the values (see READ). */
  rcReadBuffer(numKeys: number, ...keys: string[]): Promise<(Buffer | null)[]>;
  /** The same with one key (Cluster: ioredis routes a script by its first key, so a fixed key count). */
  rcReadOneBuffer(key: string): Promise<(Buffer | null)[]>;
  rcSnapshot(key: string, fresh: string, ttlMs: number): Promise<[string, number]>;
  rcBump(key: string, fresh: string, ttlMs: number): Promise<number>;
  rcExtend(key: string, ttlMs: number): Promise<number>;
  rcFencedSet(numKeys: number, ...args: (string | Buffer | number)[]): Promise<number>;
};

/** Defines the scripts on `client` once (ioredis runs them with EVALSHA, and EVAL when not loaded). */
export function defineVersionScripts(client: RedisClient): ScriptedClient {
  const scripted = client as ScriptedClient;
  if (typeof (scripted as { rcSnapshot?: unknown }).rcSnapshot !== 'function') {
    client.defineCommand('rcSnapshot', { numberOfKeys: 1, lua: SNAPSHOT });
    client.defineCommand('rcBump', { numberOfKeys: 1, lua: BUMP });
    client.defineCommand('rcExtend', { numberOfKeys: 1, lua: EXTEND });
    client.defineCommand('rcFencedSet', { lua: FENCED_SET });
    client.defineCommand('rcRead', { lua: READ });
    client.defineCommand('rcReadOne', { numberOfKeys: 1, lua: READ });
  }
  return scripted;
}

/**
 * A new version: random, so that a version made after an eviction never equals one an old entry
 * recorded (2^40 to 2^47 + 2^40, far from what INCR reaches from any of them, and exact as a double).
 */
export function freshVersion(): string {
  return String(randomInt(2 ** 40, 2 ** 40 + 2 ** 47));
}

/** A version as read: a decimal integer of 1 to 15 digits, else {@link UNKNOWN_VERSION} (read digit by digit: no string per read). */
export function parseVersion(raw: string | Buffer | null | undefined): number {
  if ((typeof raw !== 'string' && !Buffer.isBuffer(raw)) || raw.length === 0 || raw.length > 15) return UNKNOWN_VERSION;
  let value = 0;
  for (let i = 0; i < raw.length; i++) {
    const digit = (typeof raw === 'string' ? raw.charCodeAt(i) : raw[i]) - 48;
    if (digit < 0 || digit > 9) return UNKNOWN_VERSION;
    value = value * 10 + digit;
  }
  return value;
}

/** Server errors (WRONGTYPE and the like) are about one key's content, not the connection. */
export function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

const logger = new Logger('ResponseCache');

/** One log line per reset of a corrupted version key. */
export function reportReset(key: string): void {
  logger.warn(`reset the tag version key "${key}": it held no integer (corrupted); the entries that depended on it are misses`);
}
