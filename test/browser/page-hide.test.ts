// The last events of a page, in every engine: events the app tracks in its own
// visibilitychange / pagehide handlers (which run after outbox's) still leave; a tab that has
// just become the sender and re-reads a slow IndexedDB still has its events in memory for the
// unload path; the unload request is a keepalive fetch (fetchLater in Chromium), never a
// beacon where either exists, and nothing needs a preflight.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, type EngineContext, type EnginePage } from './engine.js';
import { useEngine } from './engine-hooks.js';
import { collectorPerTest, startPageServer, type Collector, type PageServer } from './harness.js';
import { hideAppUrl, logUnloadApis, slowIndexedDbReads } from './page-hide-helpers.js';

let server: PageServer;
let collector: Collector;
// Never answers: a script from it holds back the load event of the page that asks for it.
let never: Server;
let neverUrl: string;

beforeAll(async () => {
  server = await startPageServer();
  // Every page served logs which unload API it used, and may delay the outbox's IndexedDB reads.
  server.initScript(`${logUnloadApis}\n${slowIndexedDbReads}`);
  server.page('/blank-no-tracker.html', '<!doctype html><title>away</title><body>away</body>');
});
beforeAll(async () => {
  never = createServer(() => undefined);
  await new Promise<void>((resolve) => never.listen(0, '127.0.0.1', resolve));
  neverUrl = `http://127.0.0.1:${(never.address() as { port: number }).port}/late.js`;
});
afterAll(async () => {
  never?.closeAllConnections();
  await Promise.all([server?.close(), new Promise((resolve) => never?.close(resolve))]);
});
collectorPerTest((started) => (collector = started));

const ids = (prefix: string) =>
  collector
    .events()
    .map((e: { id: string }) => e.id)
    .filter((id: string) => id.startsWith(prefix))
    .sort();

/** What the app page's own hide handlers tracked, as logged in sessionStorage (it survives the navigation). */
const appTracked = (page: EnginePage) => page.evaluate(() => JSON.parse(sessionStorage.getItem('appTracked') ?? '[]') as string[]);
const unloadApis = (page: EnginePage) => page.evaluate(() => JSON.parse(sessionStorage.getItem('unloadApis') ?? '[]') as string[]);

describe.each(engines)('%s', (engine) => {
  const run = useEngine(engine);
  // One context for the block, a tracker name per test (WebKit's harness opens a context in about
  // a second, and now and then not at all), and an idle tab that keeps it open when one closes.
  let context: EngineContext;
  beforeAll(async () => {
    context = await run.browser.newContext();
    await context.newPage(`${server.url}/blank-no-tracker.html`);
  });
  let tests = 0;
  const name = () => `${engine}-${tests++}`;

  const endings: Record<string, (page: EnginePage) => Promise<unknown>> = {
    'navigates away': (page) => page.goto(`${server.url}/blank-no-tracker.html`),
    'is closed': (page) => page.close(),
  };

  it.each(Object.keys(endings))('the app tracks in its own visibilitychange and pagehide handlers, then the page %s: every event arrives, no preflight', async (ending) => {
    // The flush timer is far out: only the unload path can deliver.
    // A closed tab gets a context of its own: WebKit's WebDriver session loses its current window with it.
    const own = ending === 'is closed' ? await run.browser.newContext() : context;
    const page = await own.newPage(hideAppUrl(server, 'h', { endpoint: collector.endpoint, flushIntervalMs: 600_000, name: name() }));
    await page.evaluate(() => (window as unknown as { trackMany(n: number): void }).trackMany(20));
    // A closed tab cannot be asked afterwards: the ids its handlers will use are known in advance.
    const handlerIds = ['h-pagehide', 'h-visibilitychange'];
    await endings[ending]!(page);
    await collector.waitFor(() => ids('h-').length >= 21, 10_000).catch(() => undefined);
    const got = ids('h-');
    const expected = [...Array.from({ length: 20 }, (_, i) => `h-${i}`), 'h-pagehide'];
    // Every engine fires pagehide; visibilitychange on the way out depends on the engine and the
    // ending. Whatever the app's handlers tracked must have arrived.
    if (ending === 'navigates away') {
      const tracked = await appTracked(page);
      expect(tracked).toContain('h-pagehide');
      expected.push(...tracked.filter((id) => !expected.includes(id)));
      const apis = await unloadApis(page);
      console.log(`[page-hide] ${engine}, ${ending}: handlers tracked ${tracked.join(', ')}; unload requests by ${apis.join(', ')}`);
      expect(apis.length).toBeGreaterThan(0);
      // fetchLater where it exists (Chromium), else keepalive fetch: never a beacon.
      expect(apis.every((api) => api === (engine === 'chromium' ? 'fetchLater' : 'keepalive'))).toBe(true);
    } else {
      expected.push(...got.filter((id) => handlerIds.includes(id) && !expected.includes(id)));
    }
    await collector.waitFor(() => expected.every((id) => ids('h-').includes(id)), 10_000).catch(() => undefined);
    expect(ids('h-')).toEqual(expected.sort());
    expect(collector.stats().preflights).toBe(0);
    if (own !== context) await own.close();
  });

  it('the app tracks in its visibilitychange handler while the tab is merely hidden: the event leaves at once and is not sent again', async () => {
    const page = await context.newPage(hideAppUrl(server, 'v', { endpoint: collector.endpoint, flushIntervalMs: 600_000, name: name() }));
    await page.evaluate(() => (window as unknown as { trackMany(n: number): void }).trackMany(5));
    await page.hide();
    await collector.waitFor(() => ids('v-').length === 6, 10_000);
    expect(ids('v-')).toEqual([...Array.from({ length: 5 }, (_, i) => `v-${i}`), 'v-visibilitychange'].sort());
    // The keepalive requests' replies reach the live page: their events are acknowledged, so
    // nothing is held back for a second send.
    await page.waitForFunction(() => (window as unknown as { tracker: { stats(): { queued: number } } }).tracker.stats().queued === 0);
    const stats = await page.evaluate(() => (window as unknown as { tracker: { stats(): { sent: number } } }).tracker.stats());
    expect(stats.sent).toBe(6);
    expect(collector.stats().duplicates).toBe(0);
    expect(collector.stats().preflights).toBe(0);
  });

  // WebKit fires no pagehide for a document that has not finished loading (engine finding).
  it('the page leaves before its load event (a late script): what it tracked still leaves', async () => {
    const url = server.page(
      `/t/pre-load-${engine}.html`,
      `<!doctype html><script src="/dist/outbox.iife.js"></script><script>
        const tracker = Outbox.createTracker({ endpoint: ${JSON.stringify(collector.endpoint)}, flushIntervalMs: 600000, name: 'pre-load' });
        for (let i = 0; i < 10; i++) tracker.track('e', { i }, { id: 'p-' + i });
        setTimeout(() => { location.href = '/blank-no-tracker.html'; }, 300);
      </script><script async src="${neverUrl}"></script><body>loading</body>`,
    );
    const page = await context.newPage(`${server.url}/blank-no-tracker.html`);
    await page.evaluate((target) => void setTimeout(() => (location.href = target), 50), url);
    await collector.waitFor(() => ids('p-').length === 10, 10_000);
    expect(ids('p-')).toEqual(Array.from({ length: 10 }, (_, i) => `p-${i}`).sort());
  });

  it('a tab that just became the sender re-reads a slow IndexedDB: an unload meanwhile still sends what memory holds', async () => {
    // Every IndexedDB read of the outbox answers 700 ms late: the first read alone (rules) holds
    // the tracker's start; then leases and chunks are re-read one by one.
    const url = hideAppUrl(server, 's', { endpoint: collector.endpoint, flushIntervalMs: 50, name: name() }, { idbReadDelayMs: 700 });
    const page = await context.newPage(url);
    await page.evaluate(() => (window as unknown as { trackMany(n: number): void }).trackMany(20));
    // Written to IndexedDB (writes are not delayed), and still nothing sent: the re-read is under way.
    await page.waitForFunction(() => (window as unknown as { storedChunks(): Promise<number> }).storedChunks().then((n) => n > 0));
    const before = await page.evaluate(() => (window as unknown as { tracker: { stats(): { requests: number } } }).tracker.stats().requests);
    expect(before).toBe(0);
    await page.goto(`${server.url}/blank-no-tracker.html`);
    await collector.waitFor(() => ids('s-').length >= 20, 10_000).catch(() => undefined);
    expect(ids('s-').filter((id) => /^s-\d+$/.test(id))).toEqual(Array.from({ length: 20 }, (_, i) => `s-${i}`).sort());
  });

  it('a tab merely hidden while it re-reads a slow IndexedDB: the reply acknowledges the events, the read does not take them in again', async () => {
    // CI, Firefox: the keepalive reply acknowledged the events while the new sender's read awaited
    // their chunk; the read took them in again and sent them (sent 11 of 6, 5 duplicates).
    const url = hideAppUrl(server, 'r', { endpoint: collector.endpoint, flushIntervalMs: 600_000, name: name() }, { idbReadDelayMs: 700 });
    const page = await context.newPage(url);
    await page.evaluate(() => (window as unknown as { trackMany(n: number): void }).trackMany(5));
    // Hidden while the read awaits the chunk: its events' acknowledgement lands during the read.
    await page.waitForFunction(() => ((window as unknown as { chunkReads?: number }).chunkReads ?? 0) > 0);
    await page.hide();
    await collector.waitFor(() => ids('r-').length === 6, 10_000);
    // Acknowledged (by a keepalive's reply, or by a receipt 3 s later where fetchLater took them),
    // then past the end of the slowed read (700 ms a read), after which the copies went again.
    await page.waitForFunction(() => (window as unknown as { tracker: { stats(): { queued: number } } }).tracker.stats().queued === 0, undefined, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const stats = await page.evaluate(() => (window as unknown as { tracker: { stats(): { sent: number; queued: number } } }).tracker.stats());
    expect(stats).toMatchObject({ sent: 6, queued: 0 });
    expect(collector.stats().duplicates).toBe(0);
    expect(ids('r-')).toEqual([...Array.from({ length: 5 }, (_, i) => `r-${i}`), 'r-visibilitychange'].sort());
  });
});
