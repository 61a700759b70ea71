/**
 * The admin dashboard: one static page, no build step, no external assets (works offline). It
 * holds no data: it asks for the admin token, keeps it in a variable only (never in storage), and
 * sends it with each call to the admin API next to it (`./stats`, `./health`, `./events`, …).
 * Everything the API returns is put on the page as text, never as HTML.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Response cache</title>
<style>
  :root { --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f7f8fa; --hit: #12a150; --miss: #d92d20; --accent: #2e62d9; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 18px; margin: 0; flex: 1; }
  main { padding: 16px 24px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 0; }
  section h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 8px; }
  .figures { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; }
  .figure b { display: block; font-size: 22px; font-variant-numeric: tabular-nums; }
  .figure span { color: var(--muted); font-size: 12px; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
  th { color: var(--muted); font-weight: 500; font-size: 12px; }
  td.n, th.n { text-align: right; }
  form { display: flex; gap: 8px; align-items: center; margin: 0; }
  input { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; min-width: 0; }
  button { font: inherit; padding: 5px 12px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
  button.danger { border-color: var(--miss); background: var(--miss); }
  .ok { color: var(--hit); } .bad { color: var(--miss); } .muted { color: var(--muted); }
  #message { min-height: 1.4em; }
  #chart { width: 100%; height: 160px; display: block; }
  #events { list-style: none; margin: 0; padding: 0; max-height: 220px; overflow: auto; font: 12px/1.5 ui-monospace, Menlo, Consolas, monospace; }
  .legend { font-size: 12px; color: var(--muted); } .legend i { display: inline-block; width: 10px; height: 3px; margin: 0 4px 2px 8px; vertical-align: middle; }
  .wide { grid-column: 1 / -1; }
</style>
</head>
<body>
<header>
  <h1>Response cache</h1>
  <form id="token-form" autocomplete="off">
    <label for="token">Admin token</label>
    <input id="token" type="password" placeholder="admin token" required>
    <button type="submit">Connect</button>
  </form>
  <span id="connection" class="muted">not connected</span>
</header>
<main>
  <section class="wide">
    <div id="message" role="status" class="muted">Enter the admin token to load the figures. It stays in this page's memory only.</div>
    <div class="figures">
      <div class="figure"><b id="hit-ratio">–</b><span>hit ratio</span></div>
      <div class="figure"><b id="hits">–</b><span>hits</span></div>
      <div class="figure"><b id="misses">–</b><span>misses</span></div>
      <div class="figure"><b id="bypasses">–</b><span>bypasses</span></div>
      <div class="figure"><b id="stale">–</b><span>stale served</span></div>
      <div class="figure"><b id="errors">–</b><span>store errors</span></div>
      <div class="figure"><b id="entries">–</b><span>entries</span></div>
      <div class="figure"><b id="size">–</b><span>size</span></div>
    </div>
  </section>
  <section class="wide">
    <h2>Hits and misses per second <span class="legend"><i style="background:var(--hit)"></i>hits<i style="background:var(--miss)"></i>misses · top of the scale: <span id="chart-max">–</span></span></h2>
    <svg id="chart" viewBox="0 0 600 160" preserveAspectRatio="none" role="img" aria-label="hits and misses over time">
      <line x1="0" y1="155" x2="600" y2="155" stroke="#e4e7ec"></line>
      <line x1="0" y1="80" x2="600" y2="80" stroke="#e4e7ec" stroke-dasharray="4 4"></line>
      <line x1="0" y1="5" x2="600" y2="5" stroke="#e4e7ec" stroke-dasharray="4 4"></line>
      <polyline id="chart-hits" fill="none" stroke="#12a150" stroke-width="2" points=""></polyline>
      <polyline id="chart-misses" fill="none" stroke="#d92d20" stroke-width="2" points=""></polyline>
    </svg>
  </section>
  <section>
    <h2>Store</h2>
    <table><tbody>
      <tr><th>type</th><td id="store-type">–</td></tr>
      <tr><th>health</th><td id="store-health">–</td></tr>
      <tr><th>latency</th><td id="store-latency">–</td></tr>
      <tr><th>circuit</th><td id="store-circuit">–</td></tr>
    </tbody></table>
  </section>
  <section>
    <h2>Actions</h2>
    <form id="invalidate-form">
      <input id="tag" placeholder="tag, e.g. users" required aria-label="tag to invalidate">
      <button type="submit">Invalidate tag</button>
    </form>
    <p><button id="clear" class="danger" type="button">Clear the cache…</button></p>
  </section>
  <section>
    <h2>Routes</h2>
    <table id="routes"><thead><tr><th>route</th><th class="n">hits</th><th class="n">misses</th><th class="n">hit ratio</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Top keys</h2>
    <table id="top-keys"><thead><tr><th>key</th><th class="n">hits</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Recent invalidations</h2>
    <table id="invalidations"><thead><tr><th>when</th><th>type</th><th>what</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Live events</h2>
    <ul id="events"></ul>
  </section>
</main>
<script>
(() => {
  'use strict';
  const POLL_MS = 2000, POINTS = 60, EVENTS = 100;
  let token = '';
  let timer = 0;
  let previous = null;
  let streamAbort = null;
  const series = { hits: [], misses: [] };
  const $ = (id) => document.getElementById(id);

  function text(id, value) { $(id).textContent = value; }
  function say(message, kind) { const m = $('message'); m.textContent = message; m.className = kind || 'muted'; }
  function bytes(n) {
    const units = ['B', 'KB', 'MB', 'GB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
  }
  function rows(tableId, data) {
    const body = $(tableId).tBodies[0];
    body.replaceChildren(...data.map((cells) => {
      const tr = document.createElement('tr');
      for (const cell of cells) {
        const td = document.createElement('td');
        td.textContent = String(cell);
        if (typeof cell === 'number' || /^[0-9.]+%$/.test(String(cell))) td.className = 'n';
        tr.append(td);
      }
      return tr;
    }));
  }

  async function api(path, init) {
    const response = await fetch(path, {
      ...init,
      headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json', ...(init && init.headers) },
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 401) throw new Error('wrong admin token (401)');
    if (!response.ok) throw new Error((body && body.message) || 'HTTP ' + response.status);
    return body;
  }

  function draw() {
    const all = series.hits.concat(series.misses);
    const max = Math.max(1, ...all);
    const line = (values) => values.map((v, i) => (i * 600 / (POINTS - 1)).toFixed(1) + ',' + (155 - v / max * 150).toFixed(1)).join(' ');
    $('chart-hits').setAttribute('points', line(series.hits));
    $('chart-misses').setAttribute('points', line(series.misses));
    text('chart-max', max.toFixed(max < 10 ? 1 : 0) + '/s');
  }

  function render(stats, health) {
    text('hit-ratio', (stats.hitRatio * 100).toFixed(1) + '%');
    text('hits', stats.hits); text('misses', stats.misses); text('bypasses', stats.bypasses);
    text('stale', stats.stale); text('errors', stats.errors); text('entries', stats.entries); text('size', bytes(stats.sizeBytes));
    text('store-type', health.store);
    const h = $('store-health');
    h.textContent = health.healthy ? 'healthy' : 'unreachable' + (health.error ? ': ' + health.error : '');
    h.className = health.healthy ? 'ok' : 'bad';
    text('store-latency', health.latencyMs + ' ms');
    text('store-circuit', health.circuit || 'n/a');
    rows('routes', stats.routes.map((r) => [r.route || '(none)', r.hits, r.misses, r.hits + r.misses === 0 ? '–' : (r.hits / (r.hits + r.misses) * 100).toFixed(1) + '%']));
    rows('top-keys', stats.topKeys.map((k) => [k.key, k.hits]));
    rows('invalidations', stats.recentInvalidations.map((i) => [new Date(i.at).toLocaleTimeString(), i.type, i.target]));
    const now = Date.now();
    if (previous) {
      const seconds = Math.max(0.001, (now - previous.at) / 1000);
      series.hits.push(Math.max(0, stats.hits - previous.hits) / seconds);
      series.misses.push(Math.max(0, stats.misses - previous.misses) / seconds);
      for (const s of [series.hits, series.misses]) while (s.length > POINTS) s.shift();
      draw();
    }
    previous = { at: now, hits: stats.hits, misses: stats.misses };
  }

  async function refresh() {
    try {
      const [stats, health] = await Promise.all([api('./stats'), api('./health')]);
      render(stats, health);
      text('connection', 'updated ' + new Date().toLocaleTimeString());
      $('connection').className = 'ok';
    } catch (error) {
      say(error.message, 'bad');
      $('connection').textContent = 'disconnected';
      $('connection').className = 'bad';
      if (/401/.test(error.message)) stop();
    }
  }

  function showEvent(type, data) {
    const li = document.createElement('li');
    const what = data.route || data.key || (data.tags && data.tags.join(', ')) || data.operation || '';
    const extra = type === 'sampled' ? data.sampledOut + ' sampled out, ' + data.dropped + ' dropped' : data.reason || '';
    li.textContent = new Date(data.at).toLocaleTimeString() + '  ' + type.padEnd(12) + ' ' + what + (extra ? '  (' + extra + ')' : '');
    li.className = type === 'hit' || type === 'stale' || type === 'coalesced' ? 'ok' : type === 'miss' || type === 'store-error' ? 'bad' : '';
    const list = $('events');
    list.prepend(li);
    while (list.children.length > EVENTS) list.lastChild.remove();
  }

  /** EventSource cannot send a header: read the stream with fetch and parse it. */
  async function listen() {
    streamAbort = new AbortController();
    try {
      const response = await fetch('./events', { headers: { authorization: 'Bearer ' + token }, signal: streamAbort.signal });
      if (!response.ok || !response.body) return;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\\n\\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let type = 'message', data = '';
          for (const line of block.split('\\n')) {
            if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) showEvent(type, JSON.parse(data));
        }
      }
    } catch (error) {
      if (error.name !== 'AbortError') setTimeout(() => token && listen(), 3000);
    }
  }

  function stop() {
    clearInterval(timer);
    if (streamAbort) streamAbort.abort();
  }

  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    token = $('token').value.trim();
    $('token').value = '';
    stop();
    previous = null;
    series.hits = new Array(POINTS).fill(0);
    series.misses = new Array(POINTS).fill(0);
    draw();
    say('Connected. The figures refresh every ' + POLL_MS / 1000 + ' s.', 'muted');
    refresh();
    timer = setInterval(refresh, POLL_MS);
    listen();
  });

  $('invalidate-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const tag = $('tag').value.trim();
    try {
      const result = await api('./invalidate', { method: 'POST', body: JSON.stringify({ tags: [tag] }) });
      say('Invalidated tag "' + tag + '" (' + result.tags + ' tag).', 'ok');
      $('tag').value = '';
      refresh();
    } catch (error) { say(error.message, 'bad'); }
  });

  $('clear').addEventListener('click', async () => {
    if (!confirm('Clear every entry of this cache? Every route will miss until it is filled again.')) return;
    try {
      await api('./clear', { method: 'POST', body: JSON.stringify({ confirm: true }) });
      say('Cache cleared.', 'ok');
      refresh();
    } catch (error) { say(error.message, 'bad'); }
  });
})();
</script>
</body>
</html>
`;
