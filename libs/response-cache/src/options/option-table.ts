import { ResponseCacheConfigError } from '../response-cache.errors';
import { describeValue, flag, rejectUnknownKeys, seconds, wholeNumber } from './option-checks';

/**
 * One option, declared once: what the docs say of it and its default, and the check that turns
 * the user's value (undefined when unset) into the resolved one or throws a
 * `ResponseCacheConfigError` naming the option.
 */
export interface OptionRow<In, Out> {
  /** The default, as the options table in the docs shows it. */
  readonly default: string;
  /** What the option does, one line of the docs' options table. */
  readonly doc: string;
  /** The resolved option's name, when it differs (durations become milliseconds: `ttl` → `ttlMs`). */
  readonly as?: string;
  readonly resolve: (value: In | undefined, name: string) => Out;
  /** A group's own fields (`identity.user`, …), listed under it in the docs. */
  readonly rows?: Readonly<Record<string, OptionRow<never, unknown>>>;
}

/** A row for every key of `T`, no more: the compiler holds the table to the options interface. */
export type OptionTable<T> = { readonly [K in keyof T]-?: OptionRow<T[K], unknown> };

type ResolvedName<K, Row> = Row extends { readonly as: infer A extends string } ? A : K;

/** What a table resolves to: each row's result under its resolved name. */
export type ResolvedTable<Table> = {
  -readonly [K in keyof Table as ResolvedName<K, Table[K]>]: Table[K] extends OptionRow<never, infer Out> ? Out : never;
};

/**
 * Resolves `options` through `table`: a key the table lacks is refused (with the nearest known
 * name), every row's check runs, unset rows take their default. `where` prefixes the names in
 * messages (`warm.` for a nested table).
 */
export function resolveTable<T extends object, Table extends OptionTable<T>>(table: Table, options: T, where = ''): ResolvedTable<Table> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    const option = where === '' ? 'forRoot' : where.slice(0, -1);
    throw new ResponseCacheConfigError(
      option,
      `expected an options object, got ${describeValue(options)}`,
      'See the options table in docs/decorators-and-options.md.',
    );
  }
  const names = Object.keys(table) as (keyof T & string)[];
  rejectUnknownKeys(where, options, names);
  const resolved: Record<string, unknown> = {};
  for (const name of names) {
    const row = table[name] as OptionRow<unknown, unknown>;
    resolved[row.as ?? name] = row.resolve(options[name], `${where}${name}`);
  }
  return resolved as ResolvedTable<Table>;
}

/** The docs' options table (Markdown rows) of `table`, under `prefix` (for a nested table). */
export function optionsMarkdown(table: Readonly<Record<string, OptionRow<never, unknown>>>, prefix = ''): string[] {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return Object.entries(table).flatMap(([name, row]) => [
    `| \`${prefix}${name}\` | ${cell(row.default)} | ${cell(row.doc)} |`,
    ...(row.rows === undefined ? [] : optionsMarkdown(row.rows, `${prefix}${name}.`)),
  ]);
}

/** A true/false option. */
export function flagRow(fallback: boolean, doc: string) {
  return { default: String(fallback), doc, resolve: (value: boolean | undefined, name: string) => flag(name, value ?? fallback) };
}

/** A whole number from `min` to `max` (a count, bytes, milliseconds). */
export function wholeRow(fallback: number, doc: string, min: number, max?: number) {
  return {
    default: String(fallback),
    doc,
    resolve: (value: number | undefined, name: string) => wholeNumber(name, value ?? fallback, min, max),
  };
}

/** A duration in seconds, resolved to milliseconds under the name `as`. */
export function secondsRow<As extends string>(fallback: number, as: As, doc: string, min = 0) {
  return {
    default: String(fallback),
    doc,
    as,
    resolve: (value: number | undefined, name: string) => seconds(name, value ?? fallback, min),
  };
}
