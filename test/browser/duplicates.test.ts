// Duplicates on the wire, in every engine: the next page (or the tab that takes over sending)
// asks the collector for the receipt of each request it finds leased, instead of sending its
// events again. Reload after an outage: the unload request delivered them, the next page
// acknowledges them. Three tabs x 1,000 events closed one by one: the batches in flight at each
// close are acknowledged by receipt. Each run prints its duplicates; the bound is 1 %.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, type EnginePage } from './engine.js';
import { useEngine } from './engine-hooks.js';
import { startCollector } from '../../demo/collector/collector.mjs';
import { collectorPerTest, startPageServer, type Collector, type PageServer } from './harness.js';
import { hideAppUrl, logUnloadApis } from './page-hide-helpers.js';
import { startRequestLog } from './request-log.js';

// Diagnostic: every tab's hide events and requests (rid, API), in one localStorage key that
// outlives the tabs (read at the end by the last one).
const traceTabs = `(() => {
  const tab = new URLSearchParams(location.search).get('p') || '-';
  const log = (what) => { try { localStorage.setItem('trace', (localStorage.getItem('trace') || '') + Date.now() % 100000 + ' ' + tab + ' ' + what + '\\n'); } catch {} };
  const rid = (url) => String(url).replace(/.*[?&](rid|receipt)=([^&]*).*/, '$1=$2');
  const fetch = window.fetch, beacon = navigator.sendBeacon;
  window.fetch = function (input, init) { log('fetch' + (init && init.keepalive ? ' keepalive ' : ' ') + rid(input)); return fetch.apply(this, arguments); };
  if (beacon) Navigator.prototype.sendBeacon = function (url, body) { log('beacon ' + rid(url)); return beacon.call(this, url, body); };
  document.addEventListener('visibilitychange', () => log('visibilitychange ' + document.visibilityState));
  addEventListener('pagehide', () => log('pagehide'));
})();`;

let server: PageServer;
let collector: Collector;

beforeAll(async () => {
  server = await startPageServer();
  server.initScript(logUnloadApis + traceTabs);
  server.page('/t/idle.html', '<!doctype html><title>idle</title><body>idle</body>');
});
afterAll(() => server?.close());
collectorPerTest((started) => (collector = started));

const range = (prefix: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${prefix}-${from + i}`);
type Stats = { queued: number; requests: number; sent: number };
const stats = (page: EnginePage) => page.evaluate(() => (window as unknown as { tracker: { stats(): Stats } }).tracker.stats());

describe.each(engines)('%s', (engine) => {
  const run = useEngine(engine);

  it('reload after an outage: what the unload request delivered is acknowledged by receipt, not sent again (3 runs)', async () => {
    let duplicates = 0;
    let events = 0;
    // One context (WebKit's harness opens a context in about a second), a tracker name per round.
    const context = await run.browser.newContext();
    const page = await context.newPage(`${server.url}/t/idle.html`);
    for (let round = 0; round < 3; round++) {
      // A collector per round: whatever a round's pages still send later counts towards that round.
      const own = await startCollector({ port: 0, quiet: true });
      const prefix = `o${round}`;
      // The collector refuses with Retry-After: the tracker pauses, so only the unload request delivers.
      own.setFaults({ rejectStatus: 503, retryAfterSec: 60 });
      await page.goto(hideAppUrl(server, prefix, { endpoint: own.endpoint, flushIntervalMs: 50, name: prefix }, { handlers: false }));
      await page.evaluate(() => (window as unknown as { trackMany(n: number): void }).trackMany(30));
      await own.waitFor((c) => (c.stats().rejected?.[503] ?? 0) > 0, 10_000);
      await page.waitForFunction(() => (window as unknown as { storedChunks(): Promise<number> }).storedChunks().then((n) => n > 0));
      own.clearFaults();
      await page.reload();
      const ids = () => new Set(own.events().map((e: { id: string }) => e.id));
      await own.waitFor(() => range(prefix, 0, 30).every((id) => ids().has(id)), 15_000);
      // The new page settles the lease by receipt: it counts them sent without sending them again.
      await page.waitForFunction(() => (window as unknown as { tracker: { stats(): { sent: number } } }).tracker.stats().sent >= 30, undefined, 15_000);
      const after = await stats(page);
      const apis = await page.evaluate(() => sessionStorage.getItem('unloadApis'));
      await page.evaluate(() => sessionStorage.removeItem('unloadApis'));
      // Its queue is empty (asserted below): leaving sends nothing more to this round's collector.
      await page.goto(`${server.url}/t/idle.html`);
      const { duplicates: roundDuplicates, preflights } = own.stats();
      await own.close();
      console.log(`[duplicates] ${engine} round ${round}: ${roundDuplicates} duplicates; unload requests by ${apis}`);
      duplicates += roundDuplicates;
      events += 30;
      expect(after).toMatchObject({ requests: 0, sent: 30, queued: 0 });
      expect(preflights).toBe(0);
    }
    await context.close();
    console.log(`[duplicates] ${engine}: reload after an outage, 3 runs x 30 events: ${duplicates} duplicates on the wire`);
    expect(duplicates).toBeLessThanOrEqual(events / 100);
  });

  it('three tabs x 1,000 events, closed one by one (the sender first, batches in flight): at most 1 % duplicates', async () => {
    const context = await run.browser.newContext();
    // A batch is in flight whenever a tab closes. A timeout well above the latency: a request that
    // times out on a loaded machine is retried under its rid, a duplicate this test is not about.
    collector.setFaults({ latencyMs: 300 });
    const log = await startRequestLog(collector.url);
    const since = Date.now();
    const url = (prefix: string) => hideAppUrl(server, prefix, { endpoint: log.endpoint, flushIntervalMs: 50, maxBatchEvents: 100, timeoutMs: 5000 }, { handlers: false });
    const first = await context.newPage(url('a'));
    await first.waitForFunction(() => navigator.locks.query().then((state) => (state.held ?? []).some((lock) => lock.name === 'outbox:outbox:sender')));
    const tabs = [first, await context.newPage(url('b')), await context.newPage(url('c'))];
    for (let part = 0; part < 10; part++) {
      await Promise.all(tabs.map((tab) => tab.evaluate((from) => (window as unknown as { trackMany(n: number, from: number): void }).trackMany(100, from), part * 100)));
    }
    const want = ['a', 'b', 'c'].flatMap((prefix) => range(prefix, 0, 1000));
    const arrived = () => new Set(collector.events().map((e: { id: string }) => e.id));
    await tabs[0]!.close(); // the sender, mid-delivery
    await collector.waitFor((c) => c.stats().accepted >= 1500, 30_000);
    await tabs[1]!.close(); // the new sender, mid-delivery
    collector.clearFaults();
    await collector.waitFor(() => want.every((id) => arrived().has(id)), 40_000).catch(() => undefined);
    const missing = want.filter((id) => !arrived().has(id));
    const { duplicates, duplicateRequests } = collector.stats();
    if (duplicates > 30) {
      const trace = await tabs[2]!.evaluate(() => localStorage.getItem('trace'));
      console.log(`[duplicates] ${engine}: requests (ms from the first tab, ${since % 100000}):\n${log.format(since)}\ntabs:\n${trace}`);
    }
    await log.close();
    console.log(`[duplicates] ${engine}: three tabs x 1,000 events: ${3000 - missing.length}/3000 delivered, ${duplicates} duplicates on the wire (${duplicateRequests} requests repeated with the same rid)`);
    expect(missing).toEqual([]);
    // Issue 12's bound is 1 % (30), in every engine. Firefox fires visibilitychange on tabs opened
    // in the background: their page-hide path sent events whose chunk write was under way, and the
    // sender read that chunk before the request's IndexedDB lease landed (100 duplicates in 1 of 3
    // runs). The sender now reads with the localStorage unload leases in force (lease-receipts.ts).
    expect(duplicates).toBeLessThanOrEqual(30);
    expect(collector.stats().preflights).toBe(0);
    await context.close();
  });
});
