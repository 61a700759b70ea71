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
  edge?: EdgeFigures;
}

/** `GET /admin/cache/edge` (and `edge` in the stats), as the CLI reads it. */
export interface EdgeFigures {
  edge: string;
  softPurge: boolean;
  purgeTimeoutMs: number;
  pending: number;
  oldestPendingMs?: number;
  scheduledRepurges: number;
  purges: { ok: number; error: number; timeout: number };
  lastError?: string;
  pendingKeys: { key: string; attempts: number; ageMs: number; lastError: string }[];
}

export function formatEdge(e: EdgeFigures): string {
  const oldest = e.oldestPendingMs === undefined ? '' : `, oldest ${(e.oldestPendingMs / 1000).toFixed(1)} s`;
  const lines = [
    `edge       ${e.edge}${e.softPurge ? ' (soft purge)' : ''}, purge timeout ${e.purgeTimeoutMs} ms`,
    `purges     ${e.purges.ok} ok, ${e.purges.error} failed, ${e.purges.timeout} timed out`,
    `pending    ${e.pending} key(s) waiting for a retry${oldest}; ${e.scheduledRepurges} scheduled repurge(s)`,
  ];
  if (e.lastError !== undefined && e.pending > 0) lines.push(`last error ${e.lastError}`);
  if (e.pendingKeys.length > 0) {
    const rows = e.pendingKeys.map((k) => [k.key, k.attempts, `${(k.ageMs / 1000).toFixed(1)} s`]);
    lines.push('', table(rows, ['pending key', 'attempts', 'age']));
  }
  return lines.join('\n');
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
  if (s.edge !== undefined) lines.push(formatEdge(s.edge));
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
