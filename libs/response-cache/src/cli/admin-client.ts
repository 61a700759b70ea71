import { CliError, CliValues, EXIT, positiveInt } from './cli-args';

/** The admin API of one app, as the command line names it. */
export interface AdminApi {
  base: URL;
  token: string;
  timeoutMs: number;
}

/** The app's URL (`--url`, `RESPONSE_CACHE_URL`), its token (`--token`, `CACHE_ADMIN_TOKEN`) and the timeout. */
export function adminApi(values: CliValues, env: Record<string, string | undefined>): AdminApi {
  const rawUrl = values.url ?? env.RESPONSE_CACHE_URL ?? 'http://127.0.0.1:3000';
  let base: URL;
  try {
    base = new URL(rawUrl.endsWith('/') ? rawUrl : `${rawUrl}/`);
  } catch {
    throw new CliError(`--url must be an absolute URL such as http://127.0.0.1:3000, got "${rawUrl}"`, EXIT.usage);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new CliError(`--url must be http or https, got "${rawUrl}"`, EXIT.usage);
  const token = values.token ?? env.CACHE_ADMIN_TOKEN ?? '';
  if (token === '') throw new CliError('no admin token: pass --token or set CACHE_ADMIN_TOKEN', EXIT.usage);
  return { base, token, timeoutMs: positiveInt(values.timeout, '--timeout', 10_000) };
}

/** One request to `admin/cache/<path>`: its JSON answer, or a CliError that says what to do. */
export async function call<T>(api: AdminApi, method: string, path: string, body?: unknown): Promise<T> {
  const url = new URL(`admin/cache/${path}`, api.base);
  const response = await send(api, url, method, body);
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) throw refusal(api, url, response.status, (json as { message?: unknown } | undefined)?.message, text);
  return json as T;
}

async function send(api: AdminApi, url: URL, method: string, body: unknown): Promise<Response> {
  try {
    return await fetch(url, {
      method,
      headers: { authorization: `Bearer ${api.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(api.timeoutMs),
    });
  } catch (error) {
    // fetch fails with "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a timeout) is in its cause.
    const failure = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    const cause =
      failure.name === 'TimeoutError'
        ? `no answer within ${api.timeoutMs} ms`
        : (failure.cause?.code ?? (failure.cause?.message || failure.message || String(error)));
    throw new CliError(`cannot reach ${api.base.origin}: ${cause}. Is the app running? Set --url or RESPONSE_CACHE_URL.`, EXIT.failed);
  }
}

/** What a refusal means for the person at the terminal. */
function refusal(api: AdminApi, url: URL, status: number, message: unknown, text: string): CliError {
  if (status === 401 && typeof message === 'string' && message.includes('no admin token is configured')) {
    return new CliError(
      `the app at ${api.base.origin} has no admin token configured, so its admin API refuses every request (401). ` +
        'Give it one (adminToken in ResponseCacheModule.forRoot; in the demo app, the CACHE_ADMIN_TOKEN variable), ' +
        'restart it, and pass the same token with --token or CACHE_ADMIN_TOKEN.',
      EXIT.failed,
    );
  }
  if (status === 401) {
    return new CliError(
      "the admin token was refused (401): pass --token or set CACHE_ADMIN_TOKEN to the app's admin token (its adminToken option; CACHE_ADMIN_TOKEN in the demo app)",
      EXIT.failed,
    );
  }
  if (status === 404) {
    return new CliError(`${url.pathname} not found (404): is this an app with ResponseCacheModule and adminRoutes: true?`, EXIT.failed);
  }
  return new CliError(`the server answered ${status}: ${typeof message === 'string' ? message : text.slice(0, 200)}`, EXIT.failed);
}
