// Issue 9 in real Chromium, where the behaviour lives: IndexedDB holding what a corrupted or
// foreign profile can hold (malformed and far-future leases, invalid records, forged rules), and
// a read that fails once as the tab becomes the sender. Nothing may be lost or blocked.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { collectorPerTest, launchBrowser, startPageServer, type Collector, type PageServer } from './harness.js';
import { appUrl, fast, pageErrors, trackRange } from './durability-helpers.js';

let browser: Browser;
let server: PageServer;
let collector: Collector;
collectorPerTest((started) => (collector = started));

beforeAll(async () => {
  [browser, server] = await Promise.all([launchBrowser(), startPageServer()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const ids = () => (collector.events() as { id: string }[]).map((e) => e.id);

it('stored state is untrusted: a malformed lease, a far-future lease, invalid records and forged rules block nothing', async () => {
  const context = await browser.newContext();
  const seed = await context.newPage();
  await seed.goto(`${server.url}/blank.html`);
  const now = await seed.evaluate(() => Date.now());
  const record = (id: string, extra: object = {}) => ({ id, name: 'stored', timestamp: now, ...extra });
  const values: Record<string, string> = {
    'l:malformed': JSON.stringify({ until: 1e16, ids: 1 }),
    // The clock went back: a lease a year ahead must not hold its event for a year.
    'l:future': JSON.stringify({ until: now + 365 * 86_400_000, ids: ['leased'] }),
    'c:000000001:w:000000': JSON.stringify([record('good-1'), { id: 'no-timestamp', name: 'x' }, record('date-props', { properties: '2020-01-01' })]),
    'c:000000002:w:000000': JSON.stringify([record('leased')]),
    'c:000000003:w:000000': '{"torn',
    rules: JSON.stringify([{ until: 1e300 }, { stream: '', until: 1e300 }]),
  };
  await seed.evaluate(
    (values) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('outbox:outbox');
        open.onupgradeneeded = () => open.result.createObjectStore('kv');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction('kv', 'readwrite');
          for (const [key, value] of Object.entries(values)) tx.objectStore('kv').put(value, key);
          tx.oncomplete = () => (open.result.close(), resolve());
          tx.onerror = () => reject(tx.error);
        };
      }),
    values,
  );
  await seed.close();

  const page = await context.newPage();
  await page.goto(appUrl(server, { endpoint: collector.endpoint, ...fast }));
  await trackRange(page, 'fresh-', 0, 3);
  await collector.waitFor(() => ['good-1', 'fresh-0', 'fresh-1', 'fresh-2'].every((id) => ids().includes(id)), 10_000);
  // The far-future lease holds its event for no year: the collector's receipt for its request says
  // "not received", so it goes at once; without receipts, after the lease's cut to
  // max(2 x timeoutMs, 10 s) (tested in test/unit/hardening-tracker.test.ts).
  await collector.waitFor(() => ids().includes('leased'), 20_000);
  expect(ids()).not.toContain('no-timestamp');
  const stats = await page.evaluate(() => (window as unknown as { tracker: { stats(): { dropped: Record<string, number>; queued: number } } }).tracker.stats());
  expect(stats.dropped).toMatchObject({ corrupt: 3, ruled: 0 });
  await page.waitForFunction(() => (window as unknown as { tracker: { stats(): { queued: number } } }).tracker.stats().queued === 0, null, { timeout: 10_000 });
  const errors = await pageErrors(page);
  expect(errors.filter((e) => e.code === 'corrupt')).toHaveLength(1);
  await context.close();
});

it('a read that fails once as the tab becomes the sender loses nothing: the page sends what it holds, flush() true', async () => {
  const context = await browser.newContext();
  // The first listing of keys fails, as a transient IndexedDB error would (not one the adapter
  // retries by reopening): it is the sender's first read of the shared outbox.
  await context.addInitScript(() => {
    const getAllKeys = IDBObjectStore.prototype.getAllKeys;
    let failed = false;
    IDBObjectStore.prototype.getAllKeys = function (this: IDBObjectStore, ...args: Parameters<typeof getAllKeys>) {
      if (!failed) {
        failed = true;
        throw new DOMException('transient read failure (test)', 'DataError');
      }
      return getAllKeys.apply(this, args);
    } as typeof getAllKeys;
  });
  // The page tracks at once, before storage is ready and the tab is elected sender: by the time
  // it reads the outbox, its events are written there (on main, the sender dropped them from
  // memory before the read, and the read failed: sent 0, queued 0, dropped 0).
  const html = `<!doctype html><meta charset="utf-8"><script src="/dist/outbox.iife.js"></script><script>
    window.errors = [];
    window.tracker = Outbox.createTracker({ ...${JSON.stringify({ endpoint: collector.endpoint, ...fast, flushIntervalMs: 60_000 })}, onError: (e) => errors.push({ code: e.code, message: e.message }) });
    for (let i = 0; i < 20; i++) tracker.track('e', { i }, { id: 'page-' + i });
  </script>`;
  const page = await context.newPage();
  await page.goto(server.page('/t/takeover.html', html));
  const flushed = await page.evaluate(() => (window as unknown as { tracker: { flush(ms: number): Promise<boolean> } }).tracker.flush(10_000));
  expect(flushed).toBe(true);
  await collector.waitFor(() => Array.from({ length: 20 }, (_, i) => `page-${i}`).every((id) => ids().includes(id)), 10_000);
  const stats = await page.evaluate(() => (window as unknown as { tracker: { stats(): { tracked: number; sent: number; queued: number; dropped: Record<string, number> } } }).tracker.stats());
  const dropped = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
  expect(stats).toMatchObject({ tracked: 20, sent: 20, queued: 0 });
  expect(dropped).toBe(0);
  expect((await pageErrors(page)).some((e) => e.code === 'storage')).toBe(true);
  await context.close();
});
