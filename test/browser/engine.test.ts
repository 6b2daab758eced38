// The engine harness itself, in every engine: what the scenarios rely on (evaluate with JSON in
// and out, page-hide events on navigate, reload and close, storage across reloads and tabs of one
// context, a second tab sharing locks and channels, profiles that survive a restart).
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPageServer, tempProfile, type PageServer } from './harness.js';
import { engines, hasPersistentProfile, launchEngine, launchPersistent, type EngineBrowser } from './engine.js';

let server: PageServer;
let sink: Server;
let sinkUrl: string;
const hits: string[] = [];

// Every page reports its page-hide events to the sink with a beacon, tagged by `?tag=`.
const reporter = `<!doctype html><meta charset="utf-8"><script>
  const tag = new URLSearchParams(location.search).get('tag');
  const report = (what) => navigator.sendBeacon(SINK + '?' + tag + ':' + what, 'x');
  addEventListener('pagehide', () => report('pagehide'));
  document.addEventListener('visibilitychange', () => report('visibility-' + document.visibilityState));
</script><body>reporter</body>`;

beforeAll(async () => {
  server = await startPageServer();
  sink = createServer((req, res) => {
    hits.push(decodeURIComponent(new URL(req.url ?? '/', 'http://x').search.slice(1)));
    res.writeHead(204, { 'access-control-allow-origin': '*' }).end();
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}/hit`;
});
afterAll(async () => {
  await server?.close();
  sink?.closeAllConnections();
  await new Promise((resolve) => sink?.close(resolve));
});

const page = (tag: string) => `${server.page('/t/reporter.html', reporter.replace('SINK', JSON.stringify(sinkUrl)))}?tag=${tag}`;
async function hit(what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!hits.includes(what)) {
    if (Date.now() > deadline) throw new Error(`no "${what}" within ${timeoutMs} ms; seen: ${hits.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(engines)('%s', (engine) => {
  let browser: EngineBrowser;
  beforeAll(async () => {
    browser = await launchEngine(engine);
    console.log(`[engines] ${engine}: ${browser.version}`);
  });
  afterAll(() => browser?.close());

  it('evaluate: arguments and results go through JSON, async results are awaited, page errors reject', async () => {
    const context = await browser.newContext();
    const tab = await context.newPage(`${server.url}/blank.html`);
    expect(await tab.evaluate(([a, b]) => ({ sum: a + b, ua: typeof navigator.userAgent }), [2, 3] as [number, number])).toEqual({ sum: 5, ua: 'string' });
    expect(await tab.evaluate(async (ms) => new Promise((resolve) => setTimeout(() => resolve(`waited ${ms}`), ms)), 30)).toBe('waited 30');
    expect(await tab.evaluate(() => typeof (window as unknown as { Outbox?: object }).Outbox)).toBe('object');
    await expect(tab.evaluate(() => Promise.reject(new Error('boom in page')))).rejects.toThrow(/boom in page/);
    await tab.evaluate(() => setTimeout(() => ((window as unknown as { later: boolean }).later = true), 100));
    await tab.waitForFunction(() => (window as unknown as { later?: boolean }).later === true);
    await context.close();
  });

  it('navigate, reload and close run the page-hide handlers; hide() reports hidden', async () => {
    const context = await browser.newContext();
    const tab = await context.newPage(page(`${engine}-nav`));
    await tab.goto(`${server.url}/blank.html`);
    await hit(`${engine}-nav:pagehide`);
    await tab.goto(page(`${engine}-reload`));
    await tab.reload();
    await hit(`${engine}-reload:pagehide`);
    await tab.goto(page(`${engine}-hide`));
    await tab.hide();
    await hit(`${engine}-hide:visibility-hidden`);
    await tab.goto(page(`${engine}-close`));
    await tab.close();
    await hit(`${engine}-close:pagehide`);
    await context.close();
  });

  it('two tabs of a context share IndexedDB, Web Locks and BroadcastChannel; a reload keeps IndexedDB', async () => {
    const context = await browser.newContext();
    const [a, b] = [await context.newPage(`${server.url}/blank.html`), await context.newPage(`${server.url}/blank.html`)];
    await a.evaluate(() => {
      const channel = new BroadcastChannel('harness');
      channel.onmessage = (event) => ((window as unknown as { heard: unknown }).heard = event.data);
      void navigator.locks.request('harness-lock', () => new Promise(() => undefined)); // held while the tab lives
    });
    await b.evaluate(() => new BroadcastChannel('harness').postMessage('hello from b'));
    await a.waitForFunction(() => (window as unknown as { heard?: string }).heard === 'hello from b');
    expect(await b.evaluate(async () => ((await navigator.locks.query()).held ?? []).map((lock) => lock.name))).toEqual(['harness-lock']);
    const put = () =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('harness', 1);
        open.onupgradeneeded = () => open.result.createObjectStore('kv');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction('kv', 'readwrite');
          tx.objectStore('kv').put('kept', 'key');
          tx.oncomplete = () => (open.result.close(), resolve());
        };
      });
    const get = () =>
      new Promise<string | undefined>((resolve, reject) => {
        const open = indexedDB.open('harness', 1);
        open.onupgradeneeded = () => open.result.createObjectStore('kv');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const read = open.result.transaction('kv').objectStore('kv').get('key');
          read.onsuccess = () => (open.result.close(), resolve(read.result as string | undefined));
        };
      });
    await a.evaluate(put);
    expect(await b.evaluate(get)).toBe('kept');
    await a.close(); // the lock passes on when its tab closes
    await b.waitForFunction(async () => ((await navigator.locks.query()).held ?? []).length === 0);
    await b.reload();
    expect(await b.evaluate(get)).toBe('kept');
    const fresh = await browser.newContext();
    expect(await (await fresh.newPage(`${server.url}/blank.html`)).evaluate(get)).toBeUndefined(); // contexts are isolated
    await Promise.all([context.close(), fresh.close()]);
  });

  if (!hasPersistentProfile(engine)) {
    it('has no persistent profile (MiniBrowser --automation keeps website data in memory), and says so', async () => {
      await expect(launchPersistent(engine, '/nonexistent')).rejects.toThrow(/no persistent profile/);
    });
  } else it('a persistent profile keeps localStorage across a restart', async () => {
    const profile = await tempProfile();
    try {
      let context = await launchPersistent(engine, profile.dir);
      await (await context.newPage(`${server.url}/blank.html`)).evaluate(() => localStorage.setItem('restart', 'survived'));
      await context.close();
      context = await launchPersistent(engine, profile.dir);
      expect(await (await context.newPage(`${server.url}/blank.html`)).evaluate(() => localStorage.getItem('restart'))).toBe('survived');
      await context.close();
    } finally {
      await profile.remove();
    }
  });
});
