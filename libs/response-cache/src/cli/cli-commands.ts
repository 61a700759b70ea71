import type { WarmResult } from '../engine/cache-warmer.service';
import { AdminApi, call } from './admin-client';
import { CliError, CliValues, Command, EXIT, positiveInt } from './cli-args';
import { EdgeFigures, Stats, formatEdge, formatStats, table } from './cli-format';

/** What a command gets: the app's admin API, its arguments and options, and where to write. */
export interface Run {
  api: AdminApi;
  args: string[];
  values: CliValues;
  /** Prints the API's JSON (with --json) or the human form. */
  print(json: unknown, human: string): void;
  stderr(text: string): void;
}

interface KeyPage {
  keys: string[];
  cursor?: string;
}

async function stats({ api, print }: Run): Promise<number> {
  const figures = await call<Stats>(api, 'GET', 'stats');
  print(figures, formatStats(figures));
  return EXIT.ok;
}

async function keys({ api, args, values, print }: Run): Promise<number> {
  if (args.length > 1) throw new CliError('keys takes one pattern (quote it: "GET *users*")', EXIT.usage);
  const query = new URLSearchParams({
    pattern: args[0] ?? values.pattern ?? '*',
    limit: String(positiveInt(values.limit, '--limit', 100)),
  });
  let cursor = values.cursor;
  const found: string[] = [];
  let page: KeyPage;
  do {
    if (cursor !== undefined) query.set('cursor', cursor);
    page = await call<KeyPage>(api, 'GET', `keys?${query.toString()}`);
    found.push(...page.keys);
    cursor = page.cursor;
  } while (values.all && cursor !== undefined);
  const human = [...found, ...(page.cursor === undefined ? [] : [`(more: --cursor ${page.cursor}, or --all)`])];
  print(values.all ? { keys: found } : page, human.length === 0 ? '(no keys)' : human.join('\n'));
  return EXIT.ok;
}

async function invalidate({ api, args, values, print }: Run): Promise<number> {
  const tags = [...args, ...(values.tag ?? [])];
  const keyList = values.key ?? [];
  const { pattern } = values;
  if (tags.length === 0 && keyList.length === 0 && pattern === undefined) {
    throw new CliError('name something to invalidate: tags, --key K or --pattern P', EXIT.usage);
  }
  const body = {
    ...(tags.length > 0 ? { tags } : {}),
    ...(keyList.length > 0 ? { keys: keyList } : {}),
    ...(pattern === undefined ? {} : { pattern }),
  };
  const result = await call<{ tags: number; keys: number; pattern: number }>(api, 'POST', 'invalidate', body);
  const parts = [`${result.tags} tag${result.tags === 1 ? '' : 's'}`, `${result.keys} key${result.keys === 1 ? '' : 's'} deleted`];
  if (pattern !== undefined) parts.push(`${result.pattern} deleted by pattern`);
  print(result, `invalidated: ${parts.join(', ')}`);
  return EXIT.ok;
}

async function clear({ api, values, print }: Run): Promise<number> {
  if (!values.yes) throw new CliError('clear removes every entry of this cache: add --yes to confirm', EXIT.usage);
  print(await call<{ cleared: boolean }>(api, 'POST', 'clear', { confirm: true }), 'cleared');
  return EXIT.ok;
}

async function warm({ api, args, values, print, stderr }: Run): Promise<number> {
  const paths = [...args, ...(values.path ?? [])];
  const body = { ...(paths.length > 0 ? { paths } : {}), ...(values.host === undefined ? {} : { host: values.host }) };
  const answer = await call<{ results: WarmResult[] }>(api, 'POST', 'warm', body);
  const { results } = answer;
  const rows = results.map((r) => [r.path, r.host, r.error ?? String(r.status), r.xCache ?? '-', `${Math.round(r.durationMs)} ms`]);
  const human =
    rows.length === 0
      ? '(nothing to warm: no paths given and none configured)'
      : table(rows, ['path', 'host', 'status', 'x-cache', 'time'], 2);
  print(answer, human);
  const failed = results.filter((r) => r.error !== undefined || r.status >= 400).length;
  if (failed === 0) return EXIT.ok;
  stderr(`${failed} of ${results.length} paths failed to warm\n`);
  return EXIT.failed;
}

async function edge({ api, print }: Run): Promise<number> {
  const figures = await call<EdgeFigures>(api, 'GET', 'edge');
  print(figures, formatEdge(figures));
  return figures.pending > 0 ? EXIT.failed : EXIT.ok;
}

/** Each command, returning its exit code. */
export const COMMAND_RUNS: Record<Command, (run: Run) => Promise<number>> = { stats, keys, invalidate, clear, warm, edge };
