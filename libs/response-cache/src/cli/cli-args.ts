import { parseArgs } from 'node:util';

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
export const COMMANDS = ['stats', 'keys', 'invalidate', 'clear', 'warm', 'edge'] as const;
export type Command = (typeof COMMANDS)[number];

/** A failure the CLI reports in one line, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

const OPTIONS = {
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
} as const;

/** The command line, parsed. */
export type CliValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

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

/** The command line: `help`, or a known command with its arguments and options; else a usage error. */
export function parseCommandLine(argv: readonly string[]): { command: Command | 'help'; args: string[]; values: CliValues } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: OPTIONS });
  } catch (error) {
    throw new CliError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`, EXIT.usage);
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help || command === 'help') return { command: 'help', args, values };
  if (command === undefined) throw new CliError(`name a command\n\n${USAGE}`, EXIT.usage);
  if (!(COMMANDS as readonly string[]).includes(command)) {
    const nearest = nearestCommand(command);
    throw new CliError(
      `unknown command "${command}"${nearest === undefined ? '' : ` (did you mean "${nearest}"?)`}\n` +
        `commands: ${COMMANDS.join(', ')} (nestjs-response-cache --help for their options)`,
      EXIT.usage,
    );
  }
  return { command: command as Command, args, values };
}

/** A whole number ≥ 1 from an option, or `fallback` when it is not given. */
export function positiveInt(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${option} must be a whole number ≥ 1, got "${value}"`, EXIT.usage);
  return n;
}
