/// <reference lib="dom" />
// The callbacks passed to page.waitForFunction and page.evaluate run in the browser.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { RunningDemo, startDemo, xCacheOf } from './support/demo-app';
import { ARTIFACTS_DIR, launchBrowser } from './support/browser';

const TOKEN = 'dashboard-admin-token';

/** The dashboard in real headless Chromium against a running demo. */
describe('GET /admin/cache/dashboard in a browser', () => {
  let demo: RunningDemo;
  let browser: Browser | undefined;
  let launchError: unknown;
  let page: Page;
  /** What beforeEach started, closed by afterEach in reverse order (nothing when it failed first). */
  const started: { close(): Promise<unknown> }[] = [];
  const get = (path: string) => xCacheOf(demo, path);
  const text = async (selector: string) => (await page.textContent(selector))?.trim() ?? '';

  beforeAll(async () => {
    browser = await launchBrowser().catch((error: unknown) => Promise.reject((launchError = error)));
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    // Without a browser every test fails with the reason it could not start (Chromium missing...),
    // and nothing is started that afterEach would have to close.
    if (browser === undefined) throw launchError ?? new Error('the browser did not start');
    started.push((demo = await startDemo('express', { CACHE_ADMIN_TOKEN: TOKEN })));
    started.push((page = await browser.newPage()));
  });
  afterEach(async () => {
    for (const thing of started.splice(0).reverse()) await thing.close();
  });

  it('is static HTML that holds no data and needs no token', async () => {
    await get('/api/users');
    const res = await fetch(`${demo.url}/admin/cache/dashboard`);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(html).not.toContain('/api/users');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i); // no external assets
  });

  it('asks for the token, rejects a wrong one, then shows live figures that change after requests', async () => {
    await page.goto(`${demo.url}/admin/cache/dashboard`);
    expect(await text('#hits')).toBe('–');

    await page.fill('#token', 'wrong-token');
    await page.click('#token-form button');
    await page.waitForFunction(() => /wrong admin token/.test(document.getElementById('message')?.textContent ?? ''));

    await page.fill('#token', TOKEN);
    await page.click('#token-form button');
    await page.waitForFunction(() => document.getElementById('hits')?.textContent === '0');
    expect(await text('#store-type')).toBe('memory');
    expect(await text('#store-health')).toBe('healthy');

    await get('/api/users');
    await get('/api/users');
    await get('/api/users');
    await get('/api/posts/1');
    await page.waitForFunction(() => document.getElementById('hits')?.textContent === '2', undefined, { timeout: 10_000 });
    expect(await text('#misses')).toBe('2');
    expect(await text('#hit-ratio')).toBe('50.0%');
    expect(await text('#routes tbody')).toContain('/api/users');
    expect(await text('#top-keys tbody')).toContain('/api/users');
    // The event stream (read with fetch, token in a header) lists the hits as they happen.
    await page.waitForFunction(() => (document.getElementById('events')?.textContent ?? '').includes('hit'));
    // The chart's newest point (right edge) shows the hits of the last poll interval.
    await page.waitForFunction(
      () => {
        const points = (document.getElementById('chart-hits')?.getAttribute('points') ?? '').split(' ');
        return points.length === 60 && points.some((p) => Number(p.split(',')[1]) < 155);
      },
      undefined,
      { timeout: 10_000 },
    );
    // The token lives in the page's memory only.
    expect(await page.evaluate(() => localStorage.length + sessionStorage.length + document.cookie.length)).toBe(0);
    expect(await page.inputValue('#token')).toBe('');
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'dashboard.png'), fullPage: true });
  }, 30_000);

  it('invalidates a tag and clears (after a confirmation) from its buttons', async () => {
    await get('/api/users');
    await get('/api/posts');
    expect(await get('/api/users')).toBe('HIT');
    await page.goto(`${demo.url}/admin/cache/dashboard`);
    await page.fill('#token', TOKEN);
    await page.click('#token-form button');
    await page.waitForFunction(() => document.getElementById('hits')?.textContent === '1');

    await page.fill('#tag', 'users');
    await page.click('#invalidate-form button');
    await page.waitForFunction(() => /Invalidated tag "users"/.test(document.getElementById('message')?.textContent ?? ''));
    expect(await get('/api/users')).toBe('MISS');
    expect(await get('/api/posts')).toBe('HIT');
    await page.waitForFunction(() => (document.getElementById('invalidations')?.textContent ?? '').includes('users'));

    // Declining the confirmation clears nothing.
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.click('#clear');
    expect(await get('/api/posts')).toBe('HIT');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#clear');
    await page.waitForFunction(() => document.getElementById('message')?.textContent === 'Cache cleared.');
    expect(await get('/api/posts')).toBe('MISS');
  }, 30_000);
});
