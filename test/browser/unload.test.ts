// The unload path in every engine: what is queued when the page goes away arrives, through each
// delivery path the engine has (sendBeacon and keepalive fetch everywhere, fetchLater in Chromium
// only: Firefox ESR 153 and WebKitGTK 2.50 lack it), in one request within the budget,
// cross-origin and without a CORS preflight. The flush timer is set far out in these pages, so
// only the unload path can deliver.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, startPageServer, collectorPerTest, type Collector, type PageServer } from './harness.js';
import { engines, type EngineContext, type EngineName, type EnginePage } from './engine.js';
import { useEngine } from './engine-hooks.js';

/** A delivery path forced on the page, or 'native': whatever the engine has, only logged. */
type Path = 'fetchLater' | 'beacon' | 'keepalive' | 'native';

let server: PageServer;
let collector: Collector;

beforeAll(async () => {
  server = await startPageServer();
});
afterAll(() => server?.close());
collectorPerTest((started) => (collector = started));

/** The paths each engine has (fetchLater: Chromium only). */
const pathsOf = (engine: EngineName): Path[] => (engine === 'chromium' ? ['fetchLater', 'beacon', 'keepalive'] : ['beacon', 'keepalive']);

// Takes the preferred APIs away, so each delivery path is exercised on its own (peer-sdks.md
// pitfall 21: test every path), and proves the order: with sendBeacon there, keepalive still
// wins. It also logs every unload request the page makes into
// sessionStorage, which survives the navigation, so tests can read what left and how big it was
// (a deferred fetchLater, registered while the page lives, is only logged once it is sent now).
function instrument(path: Path): string {
  return `(() => {
    const log = (via, url, body) => {
      const entries = JSON.parse(sessionStorage.getItem('unloadLog') || '[]');
      entries.push({ via, url: String(url), bytes: body ? body.byteLength ?? body.size ?? body.length : 0 });
      sessionStorage.setItem('unloadLog', JSON.stringify(entries));
    };
    const path = ${JSON.stringify(path)};
    const fetchLater = window.fetchLater, sendBeacon = navigator.sendBeacon, fetch = window.fetch;
    if (path !== 'fetchLater' && path !== 'native') delete window.fetchLater;
    else if (fetchLater) window.fetchLater = (url, init) => (init.activateAfter === 0 && log('fetchLater', url, init.body), fetchLater.call(window, url, init));
    // The order is fetchLater, keepalive fetch, beacon: a beacon goes only where keepalive is missing.
    if (path === 'beacon') delete Request.prototype.keepalive;
    if (sendBeacon) Navigator.prototype.sendBeacon = function (url, body) { log('beacon', url, body); return sendBeacon.call(this, url, body); };
    window.fetch = (url, init) => (init && init.keepalive && log('keepalive', url, init.body), fetch.call(window, url, init));
  })();`;
}

function trackerPage(name: string, attributes: Record<string, string>): string {
  const attrs = Object.entries({ endpoint: collector.endpoint, ...attributes })
    .map(([key, value]) => ` data-${key}="${value}"`)
    .join('');
  return server.page(`/t/${name}.html`, `<!doctype html><meta charset="utf-8"><script src="/dist/outbox.iife.js"${attrs}></script><body>${name}</body>`);
}

// Each test gets a fresh context of the engine, its pages instrumented for `path`.
let browserOf: () => { newContext(): Promise<EngineContext> };

async function openPage(path: Path, url: string): Promise<{ context: EngineContext; page: EnginePage }> {
  const context = await browserOf().newContext();
  server.initScript(instrument(path));
  const page = await context.newPage(url);
  return { context, page };
}

function track(page: EnginePage, count: number, from = 0): Promise<void> {
  return page.evaluate(
    ([count, from]) => {
      const outbox = (window as unknown as { outbox: { track(name: string, properties: object): void } }).outbox;
      for (let i = from; i < from + count; i++) outbox.track('unload.test', { i });
    },
    [count, from] as [number, number],
  );
}

function received(): number[] {
  return collector
    .events()
    .filter((e: { name: string }) => e.name === 'unload.test')
    .map((e: { properties: { i: number } }) => e.properties.i)
    .sort((a: number, b: number) => a - b);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

// Counts deferred fetchLater registrations (no activateAfter) in `window.deferred`, to know when
// the queue's head is registered.
function countDeferred(page: Page): Promise<void> {
  return page.addInitScript(() => {
    const fetchLater = (window as unknown as { fetchLater: (url: string, init: { activateAfter?: number }) => unknown }).fetchLater;
    Object.assign(window, {
      deferred: 0,
      fetchLater: (url: string, init: { activateAfter?: number }) => {
        if (init.activateAfter === undefined) (window as unknown as { deferred: number }).deferred++;
        return fetchLater.call(window, url, init);
      },
    });
  });
}

async function unloadLog(page: EnginePage): Promise<{ via: Path; url: string; bytes: number }[]> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('unloadLog') || '[]'));
}

const endings: Record<string, (page: EnginePage) => Promise<unknown>> = {
  'an immediate navigation': (page) => page.goto(`${server.url}/blank.html`),
  'closing the tab': (page) => page.close(),
  'a hidden tab': (page) => page.hide(),
};

describe.each(engines)('%s', (engine) => {
const run = useEngine(engine);
beforeAll(() => {
  browserOf = () => run.browser;
});
afterEach(() => server.initScript(null));

describe.each(pathsOf(engine))('through %s', (path) => {
  it.each(Object.keys(endings))('50 events tracked, then %s: all 50 arrive within 5 s, once, no preflight', async (ending) => {
    const url = trackerPage(`unload-50-${path}`, { 'flush-interval-ms': '600000', storage: 'memory' });
    const { context, page } = await openPage(path, url);
    await track(page, 50);
    const started = Date.now();
    await endings[ending]!(page);
    await collector.waitFor(() => received().length === 50, 5000);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(received()).toEqual(range(50));
    const stats = collector.stats();
    expect(stats.duplicates).toBe(0);
    expect(stats.requests).toBe(1); // one request carried all 50
    expect(stats.preflights).toBe(0);
    if (ending !== 'closing the tab') {
      const log = await unloadLog(page);
      expect(log.map((entry) => entry.via)).toEqual([path]);
    }
    await context.close();
  });
});

it.each(['gzip', 'none'] as const)('5,000 queued events at unload (compression %s): one request within the 48 KiB budget, the rest on the next page load, none lost', async (compression) => {
  // The collector refuses with 503 and Retry-After, so the tracker pauses and everything queues.
  collector.setFaults({ rejectStatus: 503, retryAfterSec: 60 });
  // Batch limits far above the budget, so that the budget decides.
  const name = `unload-5000-${compression}`;
  const attributes = { 'max-batch-events': '10000', 'max-batch-bytes': String(4 * 1024 * 1024), 'flush-interval-ms': '50', compression, name };
  const { context, page } = await openPage('beacon', trackerPage(name, attributes));
  // Tracked over 50 ticks, as a page would over time: one storage chunk per tick.
  for (let i = 0; i < 5000; i += 100) {
    await page.evaluate(([from]) => {
      const outbox = (window as unknown as { outbox: { track(name: string, properties: object): void } }).outbox;
      // Some entropy per event, as real events have.
      for (let i = from; i < from + 100; i++) outbox.track('unload.test', { i, token: crypto.randomUUID(), path: `/catalog/item/${i}` });
    }, [i] as const);
  }
  await collector.waitFor((c) => (c.stats().rejected[503] ?? 0) >= 1, 5000);
  expect(await page.evaluate(() => (window as unknown as { outbox: { stats(): { queued: number } } }).outbox.stats().queued)).toBe(5000);
  await new Promise((resolve) => setTimeout(resolve, 300)); // the outbox writes its chunks to IndexedDB
  collector.clearFaults();
  const before = collector.stats();

  // Leave for a page without a tracker: only the unload request can reach the collector.
  await page.goto(`${server.url}/blank.html`);
  await collector.waitFor((c) => c.stats().requests === before.requests + 1, 5000);
  const unload = collector.stats();
  const bodyBytes = unload.bytesIn - before.bytesIn;
  const carried = unload.accepted - before.accepted;
  const [request, ...others] = await unloadLog(page);
  expect(others).toEqual([]);
  expect(request!.bytes).toBe(bodyBytes);
  expect(bodyBytes).toBeLessThanOrEqual(48 * 1024);
  // The unload path sends plain bytes whatever `compression` says (it must stay synchronous, and
  // the platform's gzip is async): the budget binds and is used, not wasted.
  expect(bodyBytes).toBeGreaterThan(40 * 1024);
  expect(unload.bytesInflated - before.bytesInflated).toBe(bodyBytes);
  expect(carried).toBeGreaterThan(0);
  expect(carried).toBeLessThan(5000);
  expect(received()).toEqual(range(carried)); // the oldest went first
  console.log(`[unload] 5,000 queued, compression ${compression}: one ${request!.via} of ${bodyBytes} bytes (${unload.bytesInflated - before.bytesInflated} inflated) carried ${carried} events`);

  // The next page load with the tracker sends the rest from IndexedDB; what the unload request
  // carried is leased for 10 s, then sent again and de-duplicated by id.
  const nextStarted = Date.now();
  await page.goto(trackerPage(`${name}-next`, { name, 'max-batch-events': '500' }));
  await collector.waitFor(() => received().length === 5000, 30_000);
  expect(received()).toEqual(range(5000));
  console.log(`[unload] next page: all 5,000 after ${Date.now() - nextStarted} ms, ${collector.stats().duplicates} duplicates dropped by the collector`);
  expect(collector.stats().preflights).toBe(0);
  await context.close();
});

it('a default script-tag tracker never causes a CORS preflight, across sends and unloads', async () => {
  const { context, page } = await openPage('native', trackerPage('unload-default', {}));
  await track(page, 300);
  await page.evaluate(() => (window as unknown as { outbox: { flush(): Promise<boolean> } }).outbox.flush());
  await track(page, 20, 300);
  await page.hide();
  await track(page, 20, 320);
  await page.goto(`${server.url}/blank.html`);
  await collector.waitFor(() => received().length === 340, 10_000);
  expect(collector.stats().preflights).toBe(0);
  await context.close();
});

it('signs the unload request in the URL, so a collector that checks signatures accepts it', async () => {
  collector.setAuthKeys({ '*': 'unload-secret' });
  try {
    const url = server.page(
      '/t/unload-signed.html',
      `<!doctype html><script src="/dist/outbox.iife.js"></script><script type="module">
        import { createHmacSigner } from '/dist/sign/hmac.js';
        window.tracker = Outbox.createTracker({ endpoint: ${JSON.stringify(collector.endpoint)}, storage: false, flushIntervalMs: 600000, signer: createHmacSigner('unload-secret') });
      </script>`,
    );
    const { context, page } = await openPage('native', url);
    await page.waitForFunction(() => 'tracker' in window);
    await page.evaluate(() => {
      for (let i = 0; i < 50; i++) (window as unknown as { tracker: { track(n: string, p: object): void } }).tracker.track('unload.test', { i });
    });
    await page.goto(`${server.url}/blank.html`);
    await collector.waitFor(() => received().length === 50, 5000);
    expect(collector.stats().signatureFailures).toBe(0);
    await context.close();
  } finally {
    collector.setAuthKeys(null);
  }
});

it('unload: false, and a closed tracker, send nothing at unload', async () => {
  const { context, page } = await openPage('native', trackerPage('unload-off', { unload: 'false', 'flush-interval-ms': '600000', storage: 'memory' }));
  await track(page, 10);
  await page.goto(trackerPage('unload-closed', { 'flush-interval-ms': '600000', storage: 'memory' }));
  await page.evaluate(async () => {
    const outbox = (window as unknown as { outbox: { close(ms: number): Promise<boolean>; track(n: string): void } }).outbox;
    await outbox.close(1000);
    // Events tracked after close() are refused; listeners are gone, so hiding sends nothing.
    outbox.track('unload.test');
  });
  await page.hide();
  await page.goto(`${server.url}/blank.html`);
  await new Promise((resolve) => setTimeout(resolve, 1000)); // nothing may arrive: a fixed wait is the assertion's window
  expect(collector.stats().requests).toBe(0);
  expect(await unloadLog(page)).toEqual([]);
  await context.close();
});

});

// Chromium only: fetchLater exists in Chromium alone (Firefox ESR 153 and WebKitGTK 2.50 lack it),
// and a renderer crash needs CDP.
describe('chromium only (fetchLater; a crash through CDP)', () => {
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(() => browser?.close());

it('a deferred fetchLater request delivers even when no unload event fires (the tab crashes)', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await countDeferred(page);
  await page.goto(trackerPage('unload-deferred', { 'flush-interval-ms': '600000', storage: 'memory' }));
  await track(page, 50);
  await page.waitForFunction(() => (window as unknown as { deferred: number }).deferred >= 1); // within a second or so
  // The renderer dies: no pagehide, no visibilitychange, no JavaScript at all.
  const cdp = await context.newCDPSession(page);
  void cdp.send('Page.crash').catch(() => undefined); // never answered: the page is gone
  await collector.waitFor(() => received().length === 50, 5000);
  expect(received()).toEqual(range(50));
  await context.close();
});

// Regression (found by the benchmarks): the deferred fetchLater request was only refreshed by a
// 1 s poll, so a page closed right after an acknowledgement re-sent the acknowledged events.
it('withdraws the deferred request once its events are acknowledged: closing right after sends nothing again', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await countDeferred(page);
  await page.goto(trackerPage('unload-withdraw', { 'flush-interval-ms': '600000', storage: 'memory' }));
  await track(page, 50); // under a full batch (100), so only flush() sends them
  await page.waitForFunction(() => (window as unknown as { deferred: number }).deferred >= 1);
  const flushed = await page.evaluate(() => (window as unknown as { outbox: { flush(ms: number): Promise<boolean> } }).outbox.flush(5000));
  expect(flushed).toBe(true);
  await context.close(); // at once: within the refresh period
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(received()).toEqual(range(50));
  expect(collector.stats().duplicates).toBe(0);
});
});
