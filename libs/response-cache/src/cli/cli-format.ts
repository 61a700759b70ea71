/** How the CLI prints what the admin API answers: aligned tables, sizes, ratios. */

/** `GET /admin/cache/stats`, as the CLI reads it. */
export interface Stats {
  hits: number;
  misses: number;
  hitRatio: number;
  bypasses: number;
  stale: number;
  errors: number;
  entries: number;
  sizeBytes: number;
  topKeys: { key: string; hits: number }[];
  routes: { route: string; hits: number; misses: number }[];
  store: { type: string; healthy: boolean; latencyMs: number };
}

/** Columns before `textColumns` are left-aligned text; the others right-aligned figures. */
export function table(rows: (string | number)[][], header: string[], textColumns = 1): string {
  const all = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  return all
    .map((r) => r.map((cell, i) => (i < textColumns ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  '))
    .join('\n');
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = n / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value.toFixed(1)} ${units[i]}`;
}

const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;

export function formatStats(s: Stats): string {
  const lines = [
    `hit ratio  ${percent(s.hitRatio)} (${s.hits} hits, ${s.misses} misses)`,
    `bypasses   ${s.bypasses}`,
    `stale      ${s.stale}`,
    `errors     ${s.errors}`,
    `entries    ${s.entries} (${bytes(s.sizeBytes)})`,
    `store      ${s.store.type}, ${s.store.healthy ? 'healthy' : 'UNREACHABLE'}, ${s.store.latencyMs} ms`,
  ];
  if (s.routes.length > 0) {
    const rows = s.routes.map((r) => [r.route, r.hits, r.misses, r.hits + r.misses === 0 ? '-' : percent(r.hits / (r.hits + r.misses))]);
    lines.push('', table(rows, ['route', 'hits', 'misses', 'hit ratio']));
  }
  if (s.topKeys.length > 0)
    lines.push(
      '',
      table(
        s.topKeys.map((k) => [k.key, k.hits]),
        ['top key', 'hits'],
      ),
    );
  return lines.join('\n');
}
