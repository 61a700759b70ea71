import { createHash } from 'node:crypto';

/**
 * A weak entity tag for a body: `W/"<length hex>-<sha1 base64url, 27 chars>"`. Computed once,
 * when the entry is stored; hits reuse it.
 */
export function weakEtag(body: string): string {
  const hash = createHash('sha1').update(body).digest('base64url');
  return `W/"${Buffer.byteLength(body).toString(16)}-${hash}"`;
}
