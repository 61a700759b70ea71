import { parseArgs } from 'node:util';
import type { WarmResult } from '../engine/cache-warmer.service';
import { EdgeFigures, Stats, formatEdge, formatStats, table } from './cli-format';

/** Where the CLI writes; a test passes its own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Exit codes: 0 done, 1 the server refused or failed (or is unreachable), 2 the command line is wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export const USAGE = `Usage: nestjs-response-cache <command> [options]

Talks to the admin API of a running app (ResponseCacheModule with adminRoutes).

Commands:
  stats                              hit ratio, totals, per-route figures, top keys, store health
                                     (and the edge's purges when an edge is configured)
  edge                               the edge's purges: sent, failed, pending a retry (exit 1 while any is pending)
  keys [pattern] [--limit N] [--cursor C] [--all]
                                     keys by glob pattern (default *), one page, or every page with --all
  invalidate [tag…] [--tag T]… [--key K]… [--pattern P]
                                     invalidate tags, delete keys, delete keys by glob pattern
  clear --yes                        remove every entry of this cache (its key prefix only)
  warm [path…] [--host H]…           warm the given paths, or the app's configured warm list, under the
                                     host(s) clients use (default: the host of --url)

Options:
  --url URL      base URL of the app (default: $RESPONSE_CACHE_URL, else http://127.0.0.1:3000)
  --token TOKEN  admin token (default: $CACHE_ADMIN_TOKEN)
  --json         print the API's JSON answer, for scripts
  --timeout MS   give up on the server after MS milliseconds (default 10000)
  -h, --help     this help

Exit status: 0 done, 1 the server refused, failed or could not be reached, 2 bad command line.
`;

/** The commands, in the order USAGE lists them. */
const COMMANDS = ['stats', 'keys', 'invalidate', 'clear', 'warm', 'edge'] as const;

/** The command one or two typed letters away from `typed` (a typo), if any. */
function nearestCommand(typed: string): string | undefined {
  const distance = (a: string, b: string): number => {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const next = [i];
      for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      row = next;
    }
    return row[b.length];
  };
  return COMMANDS.find((command) => distance(typed.toLowerCase(), command) <= 2);
}

class CliError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

interface Context {
  base: URL;
  token: string;
  timeoutMs: number;
}

interface KeyPage {
  keys: string[];
  cursor?: string;
}

async function call<T>(ctx: Context, method: string, path: string, body?: unknown): Promise<T> {
  const url = new URL(`admin/cache/${path}`, ctx.base);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${ctx.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(ctx.timeoutMs),
    });
  } catch (error) {
    // fetch fails with "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a timeout) is in its cause.
    const failure = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    const cause =
      failure.name === 'TimeoutError'
        ? `no answer within ${ctx.timeoutMs} ms`
        : (failure.cause?.code ?? (failure.cause?.message || failure.message || String(error)));
    throw new CliError(`cannot reach ${ctx.base.origin}: ${cause}. Is the app running? Set --url or RESPONSE_CACHE_URL.`, EXIT.failed);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (response.status === 401) {
    const message = (json as { message?: unknown } | undefined)?.message;
    if (typeof message === 'string' && message.includes('no admin token is configured')) {
      throw new CliError(
        `the app at ${ctx.base.origin} has no admin token configured, so its admin API refuses every request (401). ` +
          'Give it one (adminToken in ResponseCacheModule.forRoot; in the demo app, the CACHE_ADMIN_TOKEN variable), ' +
          'restart it, and pass the same token with --token or CACHE_ADMIN_TOKEN.',
        EXIT.failed,
      );
    }
    throw new CliError(
      "the admin token was refused (401): pass --token or set CACHE_ADMIN_TOKEN to the app's admin token (its adminToken option; CACHE_ADMIN_TOKEN in the demo app)",
      EXIT.failed,
    );
  }
  if (response.status === 404) {
    throw new CliError(`${url.pathname} not found (404): is this an app with ResponseCacheModule and adminRoutes: true?`, EXIT.failed);
  }
  if (!response.ok) {
    const message = (json as { message?: unknown } | undefined)?.message;
    throw new CliError(
      `the server answered ${response.status}: ${typeof message === 'string' ? message : text.slice(0, 200)}`,
      EXIT.failed,
    );
  }
  return json as T;
}

function positiveInt(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${option} must be a whole number ≥ 1, got "${value}"`, EXIT.usage);
  return n;
}

/** Runs the CLI; returns the exit code (the bin calls process.exit with it). */
export async function runCli(argv: readonly string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...argv],
        allowPositionals: true,
        options: {
          url: { type: 'string' },
          token: { type: 'string' },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
          timeout: { type: 'string' },
          limit: { type: 'string' },
          cursor: { type: 'string' },
          all: { type: 'boolean', default: false },
          tag: { type: 'string', multiple: true },
          key: { type: 'string', multiple: true },
          pattern: { type: 'string' },
          yes: { type: 'boolean', default: false },
          path: { type: 'string', multiple: true },
          host: { type: 'string', multiple: true },
        },
      });
    } catch (error) {
      throw new CliError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`, EXIT.usage);
    }
    const { values, positionals } = parsed;
    const [command, ...args] = positionals;
    if (values.help || command === 'help') {
      io.stdout(USAGE);
      return EXIT.ok;
    }
    if (command === undefined) throw new CliError(`name a command\n\n${USAGE}`, EXIT.usage);
    if (!(COMMANDS as readonly string[]).includes(command)) {
      const nearest = nearestCommand(command);
      throw new CliError(
        `unknown command "${command}"${nearest === undefined ? '' : ` (did you mean "${nearest}"?)`}\n` +
          `commands: ${COMMANDS.join(', ')} (nestjs-response-cache --help for their options)`,
        EXIT.usage,
      );
    }

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
    const ctx: Context = { base, token, timeoutMs: positiveInt(values.timeout, '--timeout', 10_000) };
    const print = (json: unknown, human: string) => io.stdout(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${human}\n`);

    switch (command) {
      case 'stats': {
        const stats = await call<Stats>(ctx, 'GET', 'stats');
        print(stats, formatStats(stats));
        return EXIT.ok;
      }
      case 'keys': {
        if (args.length > 1) throw new CliError('keys takes one pattern (quote it: "GET *users*")', EXIT.usage);
        const query = new URLSearchParams({
          pattern: args[0] ?? values.pattern ?? '*',
          limit: String(positiveInt(values.limit, '--limit', 100)),
        });
        let cursor = values.cursor;
        const keys: string[] = [];
        let page: KeyPage;
        do {
          if (cursor !== undefined) query.set('cursor', cursor);
          page = await call<KeyPage>(ctx, 'GET', `keys?${query.toString()}`);
          keys.push(...page.keys);
          cursor = page.cursor;
        } while (values.all && cursor !== undefined);
        const human = [...keys, ...(page.cursor === undefined ? [] : [`(more: --cursor ${page.cursor}, or --all)`])];
        print(values.all ? { keys } : page, human.length === 0 ? '(no keys)' : human.join('\n'));
        return EXIT.ok;
      }
      case 'invalidate': {
        const tags = [...args, ...(values.tag ?? [])];
        const keys = values.key ?? [];
        if (tags.length === 0 && keys.length === 0 && values.pattern === undefined) {
          throw new CliError('name something to invalidate: tags, --key K or --pattern P', EXIT.usage);
        }
        const body = {
          ...(tags.length > 0 ? { tags } : {}),
          ...(keys.length > 0 ? { keys } : {}),
          ...(values.pattern === undefined ? {} : { pattern: values.pattern }),
        };
        const result = await call<{ tags: number; keys: number; pattern: number }>(ctx, 'POST', 'invalidate', body);
        const parts = [`${result.tags} tag${result.tags === 1 ? '' : 's'}`, `${result.keys} key${result.keys === 1 ? '' : 's'} deleted`];
        if (values.pattern !== undefined) parts.push(`${result.pattern} deleted by pattern`);
        print(result, `invalidated: ${parts.join(', ')}`);
        return EXIT.ok;
      }
      case 'clear': {
        if (!values.yes) throw new CliError('clear removes every entry of this cache: add --yes to confirm', EXIT.usage);
        const result = await call<{ cleared: boolean }>(ctx, 'POST', 'clear', { confirm: true });
        print(result, 'cleared');
        return EXIT.ok;
      }
      case 'warm': {
        const paths = [...args, ...(values.path ?? [])];
        const body = { ...(paths.length > 0 ? { paths } : {}), ...(values.host === undefined ? {} : { host: values.host }) };
        const result = await call<{ results: WarmResult[] }>(ctx, 'POST', 'warm', body);
        const rows = result.results.map((r) => [
          r.path,
          r.host,
          r.error ?? String(r.status),
          r.xCache ?? '-',
          `${Math.round(r.durationMs)} ms`,
        ]);
        print(
          result,
          rows.length === 0
            ? '(nothing to warm: no paths given and none configured)'
            : table(rows, ['path', 'host', 'status', 'x-cache', 'time'], 2),
        );
        const failed = result.results.filter((r) => r.error !== undefined || r.status >= 400).length;
        if (failed > 0) {
          io.stderr(`${failed} of ${result.results.length} paths failed to warm\n`);
          return EXIT.failed;
        }
        return EXIT.ok;
      }
      case 'edge': {
        const edge = await call<EdgeFigures>(ctx, 'GET', 'edge');
        print(edge, formatEdge(edge));
        return edge.pending > 0 ? EXIT.failed : EXIT.ok;
      }
      default:
        throw new CliError(`unknown command "${command}"`, EXIT.usage); // refused above
    }
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`nestjs-response-cache: ${error.message}\n`);
      return error.code;
    }
    io.stderr(`nestjs-response-cache: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failed;
  }
}
