/**
 * RFC 9211 `Cache-Status` values. They never contain the key. Where a value is fixed it is
 * built once per cache name (the hot path only concatenates the TTL).
 */
export type BypassReason =
  | 'method'
  | 'nocache-param'
  | 'request-body'
  | 'authorization'
  | 'cookie'
  | 'no-identity'
  | 'invalid-key'
  | 'tag-error'
  | 'status'
  | 'set-cookie'
  | 'response-cache-control'
  | 'vary-star'
  | 'unsupported-body'
  | 'store-unavailable'
  | 'disabled';

export class CacheStatus {
  readonly miss: string;
  readonly stored: string;
  readonly collapsed: string;
  private readonly hitPrefix: string;
  private readonly bypassed = new Map<BypassReason, string>();

  constructor(readonly name: string) {
    this.miss = `${name}; fwd=uri-miss`;
    this.stored = `${name}; fwd=uri-miss; stored`;
    this.collapsed = `${name}; fwd=uri-miss; collapsed`;
    this.hitPrefix = `${name}; hit; ttl=`;
  }

  /** `hit; ttl=N`, N the seconds of freshness left (negative once stale, RFC 9211 §2.2). */
  hit(ttlSeconds: number): string {
    return this.hitPrefix + ttlSeconds;
  }

  /** The origin failed (`status`) and a stale entry was served instead (RFC 9211 `fwd=stale`). */
  staleOnError(status: number, ttlSeconds: number): string {
    return `${this.name}; fwd=stale; fwd-status=${status}; ttl=${ttlSeconds}`;
  }

  bypass(reason: BypassReason): string {
    let value = this.bypassed.get(reason);
    if (value === undefined) {
      value = `${this.name}; fwd=bypass; detail=${reason}`;
      this.bypassed.set(reason, value);
    }
    return value;
  }
}
