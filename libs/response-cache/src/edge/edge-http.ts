import { EdgePurgeError } from './edge-adapter';

/** Seconds of a `Retry-After` header (delta-seconds or an HTTP date) as ms; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * One purge request to an edge: rejects with an {@link EdgePurgeError} on a network failure, an
 * abort, or a status outside 2xx (with the edge's `Retry-After` on a 429 or 503).
 */
export async function purgeRequest(what: string, url: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const reason = signal.aborted ? 'timed out' : `failed (${cause ?? (error instanceof Error ? error.message : String(error))})`;
    throw new EdgePurgeError(`${what} ${reason}`);
  }
  if (response.status >= 200 && response.status < 300) return response;
  const body = await response.text().catch(() => '');
  throw new EdgePurgeError(
    `${what} answered ${response.status}${body === '' ? '' : `: ${body.slice(0, 200).replace(/\s+/g, ' ')}`}`,
    response.status === 429 || response.status === 503 ? retryAfterMs(response.headers.get('retry-after')) : undefined,
  );
}
