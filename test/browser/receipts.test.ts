// Receipts in real browsers: the next page asks the collector about each request of the last one
// it finds leased. A blocked unload request (a blocker dropped it, or it never left) is re-sent as
// soon as the receipt says "missing", not a lease later; an old collector that answers no receipts
// leaves today's lease in force (and in WebKit that lease reaches storage through localStorage);
// reloading offline and coming back online delivers within seconds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { engines } from './engine.js';
import { useEngine } from './engine-hooks.js';
import { collectorPerTest, launchBrowser, startPageServer, type Collector, type PageServer } from './harness.js';
import { hideAppUrl } from './page-hide-helpers.js';
import { startRequestLog } from './request-log.js';

let server: PageServer;
let collector: Collector;

// With `?blockUnload=1`, the page's unload requests vanish the way a blocker drops them: the
// browser APIs take them and report success, and nothing reaches the network.
const blockUnload = `(() => {
  if (!new URLSearchParams(location.search).get('blockUnload')) return;
  const fetch = window.fetch;
  window.fetch = function (input, init) { return init && init.keepalive ? new Promise(() => {}) : fetch.apply(this, arguments); };
  if (navigator.sendBeacon) Navigator.prototype.sendBeacon = () => true;
  if (window.fetchLater) window.fetchLater = () => ({ activated: true });
})();
// With \`?noReceipts=1\`, receipt requests fail as against an old collector (a 404).
(() => {
  if (!new URLSearchParams(location.search).get('noReceipts')) return;
  const fetch = window.fetch;
  window.fetch = function (input) { return String(input).includes('receipt=') ? Promise.resolve(new Response('not found', { status: 404 })) : fetch.apply(this, arguments); };
})();`;

// Diagnostic: each page's requests (rid, API, online flag) in sessionStorage, which survives the reload.
const traceRequests = `(() => {
  const page = Math.round(performance.timeOrigin) % 100000;
  const log = (what) => sessionStorage.setItem('trace', (sessionStorage.getItem('trace') || '') + page + ' ' + Math.round(performance.timeOrigin + performance.now()) % 100000 + ' ' + what + ' online=' + navigator.onLine + '\\n');
  const fetch = window.fetch, fetchLater = window.fetchLater;
  window.fetch = function (input, init) { log('fetch' + (init && init.keepalive ? ' keepalive ' : ' ') + String(input).replace(/.*[?&](rid|receipt)=/, '$1=').slice(0, 30)); return fetch.apply(this, arguments); };
  if (fetchLater) window.fetchLater = function (input, init) { log('fetchLater after=' + (init && init.activateAfter) + ' ' + String(input).replace(/.*rid=/, 'rid=').slice(0, 22)); return fetchLater.apply(this, arguments); };
  addEventListener('pagehide', () => log('pagehide'));
  addEventListener('offline', () => log('offline event'));
  addEventListener('online', () => log('online event'));
})();`;

beforeAll(async () => {
  server = await startPageServer();
  server.initScript(blockUnload + traceRequests); // one init script a server: both in one
});
afterAll(() => server?.close());
collectorPerTest((started) => (collector = started));

const ids = (prefix: string) => new Set(collector.events().map((e: { id: string }) => e.id).filter((id: string) => id.startsWith(`${prefix}-`)));
const all = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe.each(engines)('%s', (engine) => {
  const run = useEngine(engine);

  it('a blocked unload request: the next page hears "missing" and sends its events at once, not a lease later', async () => {
    const context = await run.browser.newContext();
    collector.setFaults({ rejectStatus: 503, retryAfterSec: 60 }); // only the unload request could deliver
    const options = { endpoint: collector.endpoint, flushIntervalMs: 50 };
    const page = await context.newPage(`${hideAppUrl(server, 'b', options, { handlers: false })}&blockUnload=1`);
    await page.evaluate(() => (window as unknown as { trackMany(n: number): void }).trackMany(20));
    await collector.waitFor((c) => (c.stats().rejected?.[503] ?? 0) > 0, 10_000);
    await page.waitForFunction(() => (window as unknown as { storedChunks(): Promise<number> }).storedChunks().then((n) => n > 0));
    collector.clearFaults();
    await page.goto(hideAppUrl(server, 'b', options, { handlers: false })); // the next page, unblocked
    const started = Date.now();
    await collector.waitFor(() => all('b', 20).every((id) => ids('b').has(id)), 9000);
    const ms = Date.now() - started;
    console.log(`[receipts] ${engine}: blocked unload request, all 20 delivered ${ms} ms after the next page loaded (the lease is 10 s)`);
    expect(ms).toBeLessThan(9000);
    expect(collector.stats().duplicates).toBe(0);
    await context.close();
  });

  it('a collector that answers no receipts: the unload lease holds its events back, as before (in WebKit through localStorage)', async () => {
    const context = await run.browser.newContext();
    collector.setFaults({ rejectStatus: 503, retryAfterSec: 60 });
    const options = { endpoint: collector.endpoint, flushIntervalMs: 50 };
    const url = `${hideAppUrl(server, 'n', options, { handlers: false })}&noReceipts=1`;
    const page = await context.newPage(url);
    await page.evaluate(() => (window as unknown as { trackMany(n: number): void }).trackMany(20));
    await collector.waitFor((c) => (c.stats().rejected?.[503] ?? 0) > 0, 10_000);
    await page.waitForFunction(() => (window as unknown as { storedChunks(): Promise<number> }).storedChunks().then((n) => n > 0));
    collector.clearFaults();
    await page.reload();
    await collector.waitFor(() => all('n', 20).every((id) => ids('n').has(id)), 10_000);
    // The next page found the hold-back (IndexedDB, or localStorage where WebKit lost the
    // IndexedDB write) and keeps the events leased: a lease key holds all 20 ids.
    const leased = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const open = indexedDB.open('outbox:outbox');
          open.addEventListener('success', () => {
            const store = open.result.transaction('kv').objectStore('kv');
            const keys = store.getAllKeys();
            keys.addEventListener('success', () => {
              const leaseKeys = keys.result.map(String).filter((k) => k.startsWith('l:'));
              if (!leaseKeys.length) return resolve(0);
              const values = store.getAll(IDBKeyRange.bound('l:', 'l:\uffff'));
              values.addEventListener('success', () => resolve(Math.max(...values.result.map((v) => (JSON.parse(String(v)).ids as string[]).filter((id) => id.startsWith('n-')).length))));
            });
          });
        }),
    );
    const queued = await page.evaluate(() => (window as unknown as { tracker: { stats(): { requests: number } } }).tracker.stats().requests);
    console.log(`[receipts] ${engine}: no receipts, after the reload: ${leased} of 20 ids under a lease in IndexedDB, ${queued} requests sent by the next page, ${collector.stats().duplicates} duplicates so far`);
    expect(leased).toBe(20);
    expect(collector.stats().duplicates).toBe(0);
    await context.close();
  });
});

// Where the hold-back written at pagehide lands, read by a page of the origin without a tracker:
// IndexedDB (WebKit drops that transaction with the page: issue 12) and localStorage (synchronous).
const readHoldBack = (name: string) =>
  new Promise<{ idb: number; local: number }>((resolve) => {
    const local = (JSON.parse(localStorage.getItem(`outbox:${name}:unload`) ?? '[]') as { ids: string[] }[]).reduce((n, l) => n + l.ids.length, 0);
    const open = indexedDB.open(`outbox:${name}`);
    open.addEventListener('success', () => {
      const values = open.result.transaction('kv').objectStore('kv').getAll(IDBKeyRange.bound('l:', 'l:\uffff'));
      values.addEventListener('success', () => resolve({ idb: values.result.reduce((n, v) => n + (JSON.parse(String(v)).ids as string[]).length, 0), local }));
    });
  });

describe.each(engines)('%s, where the hold-back lands', (engine) => {
  const run = useEngine(engine);

  it('the lease of the unload request reaches storage (5 navigations)', async () => {
    const landed = { idb: 0, local: 0 };
    server.page('/t/reader.html', '<!doctype html><title>reader</title><body>reader</body>');
    // One context (WebKit's harness opens a context in about a second), a tracker name per round.
    const context = await run.browser.newContext();
    const page = await context.newPage(`${server.url}/t/reader.html`);
    for (let round = 0; round < 5; round++) {
      collector.setFaults({ rejectStatus: 503, retryAfterSec: 60 });
      // This round's own refusal: with an earlier round's, the page could leave with its batch in
      // flight, whose stored events the unload request leaves to that batch's receipt (issue 12).
      const refused = collector.stats().rejected?.[503] ?? 0;
      await page.goto(hideAppUrl(server, `l${round}`, { endpoint: collector.endpoint, flushIntervalMs: 50, name: `l${round}` }, { handlers: false }));
      await page.evaluate(() => (window as unknown as { trackMany(n: number): void }).trackMany(20));
      await collector.waitFor((c) => (c.stats().rejected?.[503] ?? 0) > refused, 10_000);
      await page.waitForFunction(() => (window as unknown as { storedChunks(): Promise<number> }).storedChunks().then((n) => n > 0));
      // The faults stay: no retry can deliver in the meantime, so the unload request always goes
      // (the collector refusing it changes nothing here: the page is gone before the answer).
      await page.goto(`${server.url}/t/reader.html`);
      const found = await page.evaluate(readHoldBack, `l${round}`);
      if (found.idb >= 20) landed.idb++;
      if (found.local >= 20) landed.local++;
    }
    await context.close();
    console.log(`[receipts] ${engine}: the pagehide hold-back of 20 events reached IndexedDB in ${landed.idb} of 5 navigations, localStorage in ${landed.local} of 5`);
    expect(landed.local).toBe(5);
  });
});

describe('chromium, offline', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());

  it('reload while offline, back online: all 20 events within seconds, at most 1 % duplicates, 5 runs', async () => {
    const times: number[] = [];
    // Through a logging proxy: which request carried each duplicate, and when (issue 12).
    const log = await startRequestLog(collector.url);
    for (let round = 0; round < 5; round++) {
      const prefix = `f${round}`;
      const duplicatesBefore = collector.stats().duplicates;
      const context = await browser.newContext();
      collector.setFaults({ latencyMs: 1500 }); // a batch is in flight when the network goes
      const url = hideAppUrl(server, prefix, { endpoint: log.endpoint, flushIntervalMs: 50 }, { handlers: false });
      const page = await context.newPage();
      await page.goto(url);
      const requests = collector.stats().requests;
      await page.evaluate(() => (window as unknown as { trackMany(n: number): void }).trackMany(20));
      await collector.waitFor((c) => c.stats().requests > requests, 5000); // this round's batch, in flight
      await context.setOffline(true);
      await page.reload().catch(() => undefined); // offline: Chromium's error page
      collector.clearFaults();
      const online = Date.now();
      await context.setOffline(false);
      const back = await page.waitForFunction(() => 'tracker' in window, null, { timeout: 5000 }).then(() => true, () => false);
      if (!back) await page.goto(url);
      await collector.waitFor(() => all(prefix, 20).every((id) => ids(prefix).has(id)), 25_000).catch(() => undefined);
      times.push(Date.now() - online);
      expect([...ids(prefix)].sort()).toEqual(all(prefix, 20).sort());
      // Whatever the old page's requests still deliver late counts too.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      // A round with duplicates prints which requests carried them, and the pages' own trace.
      const trace = await page.evaluate(() => sessionStorage.getItem('trace')).catch(() => '');
      if (collector.stats().duplicates > duplicatesBefore) console.log(`[receipts] chromium: offline round ${round}, online at 0 (${online % 100000}):\n${log.format(online)}\n${trace}`);
      log.requests.length = 0;
      await context.close();
    }
    await log.close();
    const { duplicates, duplicateRequests } = collector.stats();
    console.log(`[receipts] chromium: reload offline, back online: all 20 delivered after ${times.join(', ')} ms; ${duplicates} duplicates in all (${duplicateRequests} requests repeated with the same rid)`);
    expect(Math.max(...times)).toBeLessThan(19_000);
    expect(duplicates).toBeLessThanOrEqual(1); // 1 % of 5 x 20
  });
});
