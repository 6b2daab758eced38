// The script tag and the documented snippet, exactly as docs/script-tag.md prints it, in every
// engine: calls made before the bundle loads arrive once, in order, with their original
// timestamps and ids; and when the visitor leaves before the bundle arrives, the snippet's own
// unload request delivers them.
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { minify } from 'terser';
import { startPageServer, collectorPerTest, type Collector, type PageServer } from './harness.js';
import { engines, supportsPreLoadScripts, type EngineContext, type EnginePage } from './engine.js';
import { useEngine } from './engine-hooks.js';

interface Stored {
  id: string;
  name: string;
  timestamp: number;
  sourceId?: string;
  properties?: { n?: number };
}

const root = new URL('../..', import.meta.url).pathname;
let server: PageServer;
let collector: Collector;
let snippet: string;
// Serves the bundle after `?delay=ms`, so the page's own scripts run first, as with a slow CDN.
let slow: Server;
let slowUrl: string;

beforeAll(async () => {
  server = await startPageServer();
  const docs = await readFile(`${root}docs/script-tag.md`, 'utf8');
  snippet = /<!-- snippet:start -->\n```html\n(<script>.*?<\/script>)\n/s.exec(docs)![1]!;
  const bundle = await readFile(`${root}dist/outbox.iife.js`);
  slow = createServer((req, res) => {
    const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? 0);
    const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle), delay);
    res.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  slowUrl = `http://127.0.0.1:${(slow.address() as { port: number }).port}/outbox.iife.js`;
});
afterAll(async () => {
  slow?.closeAllConnections();
  await Promise.all([server?.close(), new Promise((resolve) => slow?.close(resolve))]);
});
collectorPerTest((started) => (collector = started));

// The page calls outbox.track() three times, 40 ms apart, before the bundle (delayed by
// `delayMs`) can arrive, plus one call in the plain push form.
// `then` runs in the page once the calls are queued (WebKit: the page drives itself before load).
function snippetPage(name: string, delayMs: number, attributes = '', then = ''): string {
  return server.page(
    `/t/${name}.html`,
    `<!doctype html><meta charset="utf-8">
    ${snippet}
    <script async src="${slowUrl}?delay=${delayMs}" data-endpoint="${collector.endpoint}" data-source-id="device-7" data-flush-interval-ms="100" data-storage="memory"${attributes}></script>
    <script>
      const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
      window.early = (async () => {
        outbox.track('early.a', { n: 1 });
        await wait(40);
        outbox.track('early.b', { n: 2 });
        await wait(40);
        outbox.push(['track', 'early.c', { n: 3 }]);
        outbox.track('early.d', { n: 4 });
        // What the stub recorded: [method, args, timestamp, id] for track(), the plain form as is.
        return outbox.filter((call) => call.length === 4).map((call) => ({ name: call[1][0], timestamp: call[2], id: call[3] }));
      })();
      window.early.then((recorded) => { sessionStorage.setItem('early', JSON.stringify(recorded)); ${then} });
    </script><body>${name}</body>`,
  );
}

function early(): Stored[] {
  return collector.events().filter((e: Stored) => e.name.startsWith('early.'));
}

const queuedBySnippet = (page: EnginePage) => page.evaluate(() => (window as unknown as { early: Promise<{ name: string; timestamp: number; id: string }[]> }).early);

it('the snippet in docs/script-tag.md is terser\'s output of demo/web/snippet.js', async () => {
  const source = await readFile(`${root}demo/web/snippet.js`, 'utf8');
  const { code } = await minify(source, { compress: { passes: 3 }, mangle: true, format: { comments: false } });
  expect(snippet).toBe(`<script>${code}</script>`);
  expect(code!.length).toBeLessThan(1000);
});

describe.each(engines)('%s', (engine) => {
  const run = useEngine(engine);
  let context: EngineContext;
  // A fresh context per test, and its first tab.
  const newPage = async (url: string, options?: { waitUntil?: 'load' | 'domcontentloaded' }) => {
    context = await run.browser.newContext();
    return context.newPage(url, options);
  };
  afterEach(() => server.initScript(null));

  it('window.Outbox carries every value the package exports', async () => {
    const page = await newPage(`${server.url}/blank.html`);
    const inPage = await page.evaluate(() => Object.keys((window as unknown as { Outbox: object }).Outbox).sort());
    const dist = await import(`${root}dist/index.js`);
    expect(inPage).toEqual(Object.keys(dist).sort());
    await context.close();
  });

  it('calls made before the bundle loads arrive once, in order, with their original timestamps and ids', async () => {
    // WebKit returns after the load event (engine.ts): the page's calls were queued before it all the same.
    const page = await newPage(snippetPage('snippet-replay', 600), { waitUntil: supportsPreLoadScripts(engine) ? 'domcontentloaded' : 'load' });
    const recorded = await queuedBySnippet(page);
    await page.waitForFunction(() => typeof (window as unknown as { outbox: { stats?: unknown } }).outbox.stats === 'function');
    await collector.waitFor(() => early().length === 4, 5000);
    const events = early();
    expect(events.map((e) => e.name)).toEqual(['early.a', 'early.b', 'early.c', 'early.d']);
    expect(events.map((e) => e.properties?.n)).toEqual([1, 2, 3, 4]);
    for (const mine of recorded) {
      const stored = events.find((e) => e.name === mine.name)!;
      expect(stored.timestamp).toBe(mine.timestamp);
      expect(stored.id).toBe(mine.id);
    }
    expect(recorded[1]!.timestamp - recorded[0]!.timestamp).toBeGreaterThanOrEqual(35);
    expect(events.every((e) => e.sourceId === 'device-7')).toBe(true);
    expect(collector.stats().duplicates).toBe(0);
    expect(collector.stats().preflights).toBe(0);
    // After load, window.outbox is the tracker, and the push form still works.
    await page.evaluate(() => {
      const outbox = (window as unknown as { outbox: { track(n: string): void; push(call: unknown[]): void } }).outbox;
      outbox.track('early.e');
      outbox.push(['track', 'early.f']);
    });
    await collector.waitFor(() => early().length === 6, 5000);
    expect(early().map((e) => e.name).slice(4)).toEqual(['early.e', 'early.f']);
    await context.close();
  });

  // WebKitWebDriver runs no script before the load event (engine.ts): there the page leaves by
  // itself once its calls are queued, and the next page reads what the stub recorded.
  if (!supportsPreLoadScripts(engine)) {
    // Known failure in WebKit (a product finding, /work/notes/engine-findings.md): kept, not skipped.
    it('a visitor who leaves before the bundle arrives (the page navigates itself): the snippet beacons its queued track() calls', async () => {
      const page = await newPage(snippetPage('snippet-bounce-self', 60_000, '', `addEventListener('pagehide', (e) => sessionStorage.setItem('pagehide', String(e.persisted) + ' beacon=' + typeof navigator.sendBeacon)); location.href = '/blank.html';`));
      const seen = await page.evaluate(() => [location.pathname, sessionStorage.getItem('pagehide')]);
      await collector.waitFor(() => early().length === 3, 5000).catch((error: unknown) => {
        // Seen in WebKitGTK 2.50: no pagehide at all for a document that has not finished loading.
        throw new Error(`${String(error)}; the collector saw ${collector.stats().requests} requests; [next page, the old page's pagehide (null: never fired)]: ${JSON.stringify(seen)}`);
      });
      const recorded = JSON.parse((await page.evaluate(() => sessionStorage.getItem('early')))!) as Stored[];
      const events = early();
      expect(events.map((e) => e.name)).toEqual(['early.a', 'early.b', 'early.d']);
      expect(events.map((e) => ({ name: e.name, timestamp: e.timestamp, id: e.id }))).toEqual(recorded);
      expect(collector.stats().requests).toBe(1);
      expect(collector.stats().preflights).toBe(0);
      await context.close();
    });

    it('a tab hidden before the bundle arrives (the page hides itself): the snippet beacons, the bundle replays the same ids, each event is stored once', async () => {
      const hide = `Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' }); document.dispatchEvent(new Event('visibilitychange'));`;
      const page = await newPage(snippetPage('snippet-hidden-self', 1500, '', hide));
      const recorded = JSON.parse((await page.evaluate(() => sessionStorage.getItem('early')))!) as { name: string; timestamp: number; id: string }[];
      await page.waitForFunction(() => typeof (window as unknown as { outbox: { stats?: unknown } }).outbox.stats === 'function');
      await collector.waitFor((c) => early().length === 4 && c.stats().duplicates === 3, 5000);
      const events = early();
      expect(events.map((e) => e.name)).toEqual(['early.a', 'early.b', 'early.d', 'early.c']);
      for (const mine of recorded) expect(events.find((e) => e.name === mine.name)).toMatchObject(mine);
      expect(collector.stats().preflights).toBe(0);
      await context.close();
    });
  } else {
  it('a visitor who leaves before the bundle arrives: the snippet beacons its queued track() calls', async () => {
    // An async script holds back the load event: wait only for the document.
    const page = await newPage(snippetPage('snippet-bounce', 60_000), { waitUntil: 'domcontentloaded' });
    const recorded = await queuedBySnippet(page);
    await page.goto(`${server.url}/blank.html`); // the bundle never arrived
    await collector.waitFor(() => early().length === 3, 5000);
    const events = early();
    // The plain push form has no id of its own, so the snippet leaves it to the bundle.
    expect(events.map((e) => e.name)).toEqual(['early.a', 'early.b', 'early.d']);
    expect(events.map((e) => ({ name: e.name, timestamp: e.timestamp, id: e.id }))).toEqual(recorded);
    expect(events.every((e) => e.sourceId === 'device-7')).toBe(true);
    expect(collector.stats().requests).toBe(1);
    expect(collector.stats().preflights).toBe(0);
    await context.close();
  });

  // Needs scripts before the load event, which WebKitWebDriver cannot run (engine.ts).
  it('a tab hidden before the bundle arrives: the snippet beacons, the bundle replays the same ids, each event is stored once', async () => {
    const page = await newPage(snippetPage('snippet-hidden', 1500), { waitUntil: 'domcontentloaded' });
    const recorded = await queuedBySnippet(page);
    await page.hide();
    await collector.waitFor(() => early().length === 3, 5000);
    // The bundle loads after all, and replays everything it finds queued.
    await page.waitForFunction(() => typeof (window as unknown as { outbox: { stats?: unknown } }).outbox.stats === 'function');
    await collector.waitFor((c) => early().length === 4 && c.stats().duplicates === 3, 5000);
    const events = early();
    expect(events.map((e) => e.name)).toEqual(['early.a', 'early.b', 'early.d', 'early.c']);
    for (const mine of recorded) expect(events.find((e) => e.name === mine.name)).toMatchObject(mine);
    expect(collector.stats().preflights).toBe(0);
    await context.close();
  });
  }

  it('an init call supplies options that attributes cannot, and a bad attribute is named', async () => {
    // Warnings are collected in the page (no engine-neutral console listener): an init script.
    const url = server.page(
      '/t/snippet-init.html',
      `<!doctype html><script>
        window.outbox = window.outbox || [];
        window.errors = [];
        outbox.push(['init', { endpoint: ${JSON.stringify(collector.endpoint)}, storage: false, flushIntervalMs: 100, onError: (e) => errors.push(e.code) }]);
        outbox.push(['track', 'early.init', { n: 1 }]);
      </script><script src="/dist/outbox.iife.js" data-flush-intervall-ms="5" data-max-batch-events="many"></script>`,
    );
    server.initScript(`window.warnings = []; const warn = console.warn; console.warn = (...args) => { warnings.push(args.join(' ')); warn.apply(console, args); };`);
    const page = await newPage(url);
    server.initScript(null);
    await collector.waitFor(() => early().length === 1, 5000);
    await page.evaluate(() => (window as unknown as { outbox: { track(n: unknown): void } }).outbox.track(''));
    expect(await page.evaluate(() => (window as unknown as { errors: string[] }).errors)).toEqual(['invalid']);
    expect(await page.evaluate(() => (window as unknown as { warnings: string[] }).warnings)).toEqual([
      '[outbox] ignoring data-flush-intervall-ms="5": not an option',
      '[outbox] ignoring data-max-batch-events="many": not a number',
    ]);
    await context.close();
  });

  // Regression: an element with id="outbox" is `window.outbox` through the DOM's named access. The
  // stub took it for a queue (no push: it threw), and the bundle took it for a running tracker.
  it('an element with id="outbox": the snippet queues, the bundle starts, and a bounce (the page navigates itself) goes by keepalive fetch', async () => {
    // The bounce page with an element named "outbox" in front of the snippet; it leaves by itself
    // once its calls are queued, before the bundle (60 s late) and before its own load event.
    const html = await (await fetch(snippetPage('snippet-element-bounce', 60_000, '', `location.href = '/blank.html';`))).text();
    const url = server.page('/t/snippet-element.html', html.replace('<meta charset="utf-8">', '<meta charset="utf-8"><div id="outbox">app</div>'));
    // Logs which unload API the snippet used; sessionStorage survives the navigation.
    server.initScript(`(() => {
      const log = (via) => sessionStorage.setItem('via', (sessionStorage.getItem('via') || '') + via);
      const fetch = window.fetch, beacon = navigator.sendBeacon;
      window.fetch = function (input, init) { if (init && init.keepalive) log('keepalive '); return fetch.apply(this, arguments); };
      if (beacon) Navigator.prototype.sendBeacon = function (url, body) { log('beacon '); return beacon.call(this, url, body); };
    })();`);
    const page = await newPage(url);
    await page.waitForFunction(() => location.pathname === '/blank.html');
    await collector.waitFor(() => early().length === 3, 5000);
    const recorded = JSON.parse((await page.evaluate(() => sessionStorage.getItem('early')))!) as Stored[];
    expect(early().map((e) => ({ name: e.name, timestamp: e.timestamp, id: e.id }))).toEqual(recorded);
    expect(await page.evaluate(() => sessionStorage.getItem('via'))).toBe('keepalive ');
    expect(collector.stats().preflights).toBe(0);

    // The bundle alone, on a page with that element: window.outbox becomes the tracker.
    await page.goto(
      server.page(
        '/t/bundle-element.html',
        `<!doctype html><div id="outbox">app</div><script src="/dist/outbox.iife.js" data-endpoint="${collector.endpoint}" data-flush-interval-ms="100" data-storage="memory"></script>`,
      ),
    );
    await page.evaluate(() => (window as unknown as { outbox: { track(n: string): void } }).outbox.track('early.bundle'));
    await collector.waitFor(() => early().length === 4, 5000);
    expect(await page.evaluate(() => document.getElementById('outbox')!.textContent)).toBe('app');
    await context.close();
  });
});
