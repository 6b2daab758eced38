// The IndexedDB adapter in every engine: the shared storage contract (the same suite as under
// fake-indexeddb, each operation run in the page through a proxy), write-through of the tracker
// (one transaction per tick, nothing deleted before the acknowledgement), and what a tick costs.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPageServer, type PageServer } from './harness.js';
import { engines, type EngineContext, type EnginePage } from './engine.js';
import { useEngine } from './engine-hooks.js';
import { appUrl, fast, trackRange, type Collector } from './durability-helpers.js';
import { runStorageContract } from '../storage-contract.js';
import type { StorageAdapter } from '../../src/storage/storage.js';
import { startCollector } from '../../demo/collector/collector.mjs';

let server: PageServer;
let collector: Collector;

const idbKeyval = readFileSync(new URL('../../node_modules/idb-keyval/dist/index.js', import.meta.url), 'utf8');
// The ESM build of the adapter, with idb-keyval mapped in: the code users import.
const moduleHtml = `<!doctype html><meta charset="utf-8">
<script type="importmap">{ "imports": { "idb-keyval": "/vendor/idb-keyval.js" } }</script>
<script type="module">
  import * as idb from '/dist/storage/indexeddb.js';
  window.idb = idb;
  window.stores = new Map();
</script>`;

type Remote = { idb: typeof import('../../src/storage/indexeddb.js'); stores: Map<string, StorageAdapter> };

beforeAll(async () => {
  [server, collector] = await Promise.all([startPageServer(), startCollector({ port: 0, quiet: true })]);
  server.asset('/vendor/idb-keyval.js', idbKeyval, 'text/javascript; charset=utf-8');
});
afterAll(async () => {
  await Promise.all([server?.close(), collector?.close()]);
});

describe.each(engines)('%s', (engine) => {
const run = useEngine(engine);
let moduleContext: EngineContext;
let modulePage: EnginePage;
beforeAll(async () => {
  moduleContext = await run.browser.newContext();
  modulePage = await moduleContext.newPage(server.page('/t/idb-module.html', moduleHtml));
  await modulePage.waitForFunction(() => 'idb' in window);
});
afterAll(() => moduleContext?.close());

let stores = 0;
/** A StorageAdapter whose every call runs in the page, on real IndexedDB. */
async function remoteStorage(): Promise<StorageAdapter> {
  const id = `contract${stores++}`;
  await modulePage.evaluate((id) => {
    const { idb, stores } = window as unknown as Remote;
    stores.set(id, idb.createIndexedDbStorage({ name: id }));
  }, id);
  const call = (method: keyof StorageAdapter, ...args: unknown[]) =>
    modulePage.evaluate(
      ([id, method, args]) => {
        const storage = (window as unknown as Remote).stores.get(id as string)! as unknown as Record<string, (...a: unknown[]) => unknown>;
        return storage[method as string]!(...(args as unknown[]));
      },
      [id, method, args] as [string, string, unknown[]],
    );
  return {
    get: (key) => call('get', key) as Promise<string | undefined>,
    set: (key, value) => call('set', key, value) as Promise<void>,
    delete: (key) => call('delete', key) as Promise<void>,
    keys: (prefix) => call('keys', prefix) as Promise<string[]>,
    apply: (sets, deletes) => call('apply', sets, deletes) as Promise<void>,
  };
}

runStorageContract(`indexeddb (${engine})`, remoteStorage);

it('writes each tick of the tracker in one transaction, and deletes only what was acknowledged', async () => {
  const context = await run.browser.newContext();
  // Count readwrite transactions on the tracker's database, from before the page's scripts run.
  server.initScript(`(() => {
    const counts = [];
    window.writes = counts;
    const transaction = IDBDatabase.prototype.transaction;
    IDBDatabase.prototype.transaction = function (...args) {
      if (args[1] === 'readwrite') counts.push(performance.now());
      return transaction.apply(this, args);
    };
  })();`);
  collector.setFaults({ latencyMs: 500 });
  const acceptedBefore = collector.stats().accepted; // one collector for the file: count from here
  const page = await context.newPage(appUrl(server, { endpoint: collector.endpoint, ...fast, name: 'tick', unload: false, flushIntervalMs: 60_000, maxBatchEvents: 1000 }));
  server.initScript(null);
  const readStore = () =>
    page.evaluate(
      () =>
        new Promise<Record<string, string>>((resolve, reject) => {
          const open = indexedDB.open('outbox:tick');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const store = open.result.transaction('kv').objectStore('kv');
            const [keys, values] = [store.getAllKeys(), store.getAll()];
            values.onsuccess = () => {
              resolve(Object.fromEntries((keys.result as string[]).map((key, i) => [key, values.result[i] as string])));
              open.result.close();
            };
          };
        }),
    );
  const writes = () => page.evaluate(() => (window as unknown as { writes: number[] }).writes.length);
  await expect.poll(writes).toBeGreaterThan(0); // the probe: storage is open
  const before = await writes();
  await trackRange(page, `w-${engine}-`, 0, 500); // 500 events in one task, ids of this engine (one collector for the file drops repeats)
  await expect.poll(async () => Object.keys(await readStore()).filter((k) => k.startsWith('c:'))).toHaveLength(1);
  expect((await writes()) - before).toBe(1);
  const chunk = Object.entries(await readStore()).find(([key]) => key.startsWith('c:'))!;
  expect((JSON.parse(chunk[1]) as unknown[]).length).toBe(500);

  // In flight (the collector answers after 500 ms): leased, and every event still stored.
  // Awaited before the context closes: left running, WebKit's polling of it outlived the window
  // (an unhandled "no such window" rejection failed a CI run).
  const flushed = page.evaluate(() => (window as unknown as { tracker: { flush(): Promise<boolean> } }).tracker.flush());
  await expect.poll(async () => Object.keys(await readStore()).filter((k) => k.startsWith('l:'))).toHaveLength(1);
  expect((JSON.parse((await readStore())[chunk[0]]!) as unknown[]).length).toBe(500);
  await collector.waitFor((c) => c.stats().accepted === acceptedBefore + 500, 5000);
  await expect.poll(async () => Object.keys(await readStore()).filter((k) => k.startsWith('c:') || k.startsWith('l:'))).toEqual([]);
  expect(await flushed).toBe(true);
  collector.clearFaults();
  await context.close();
});

it('measures what a tick costs in IndexedDB, and what one transaction per event would cost', async () => {
  const results = await modulePage.evaluate(async () => {
    const { idb } = window as unknown as Remote;
    const storage = await idb.openIndexedDbStorage({ name: 'bench' });
    const event = (i: number) => JSON.stringify({ id: `bench-event-${i}`, name: 'page_view', timestamp: Date.now(), sourceId: 'device-42', properties: { path: '/products/42', plan: 'pro', i } });
    const chunk = (n: number) => `[${Array.from({ length: n }, (_, i) => event(i)).join(',')}]`;
    const time = async (runs: number, task: (run: number) => Promise<unknown>) => {
      const start = performance.now();
      for (let run = 0; run < runs; run++) await task(run);
      return (performance.now() - start) / runs;
    };
    const perTick: Record<string, number> = {};
    for (const n of [1, 10, 100, 1000]) {
      const value = chunk(n);
      perTick[`${n} events`] = await time(30, (run) => storage.apply!([[`c:${n}:${run}`, value]], []));
    }
    const oneTx = await time(10, (run) => storage.apply!(Array.from({ length: 100 }, (_, i) => [`e:${run}:${i}`, event(i)] as [string, string]), []));
    const perEvent = await time(10, (run) => Promise.all(Array.from({ length: 100 }, (_, i) => storage.set(`p:${run}:${i}`, event(i)))));
    return { perTick, hundredEvents: { oneTransaction: oneTx, oneTransactionPerEvent: perEvent } };
  });
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  console.log(`[durability] IndexedDB write per tick (one transaction, ${engine}): ${Object.entries(results.perTick).map(([n, t]) => `${n}: ${ms(t)}`).join(', ')}`);
  console.log(`[durability] 100 events as 100 keys: in one transaction ${ms(results.hundredEvents.oneTransaction)}, one transaction each ${ms(results.hundredEvents.oneTransactionPerEvent)} (as one chunk: ${ms(results.perTick['100 events']!)})`);
  expect(results.hundredEvents.oneTransaction).toBeLessThan(results.hundredEvents.oneTransactionPerEvent);
});
});
