// outbox's own Chromium measurements (the cross-SDK comparison is in browser.mjs): a burst of
// track() calls until persisted, sustained enqueue, memory per queued event, and delivery to the
// reference collector.
import { openPage } from './browser.mjs';

/**
 * Runs in the page: `window.benchIdb`, to open a tracker's IndexedDB database by the tracker's
 * `name` and to wait for its writes. `barrier(db)` is a read-only transaction, which IndexedDB
 * runs only once every read-write transaction created before it has committed.
 */
function installIdbProbe() {
  window.benchIdb = {
    async open(name) {
      for (let i = 0; i < 200; i++) {
        const found = (await indexedDB.databases()).find((d) => d.name && d.name.includes(name));
        if (found) {
          return new Promise((resolve, reject) => {
            const request = indexedDB.open(found.name);
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error);
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error('the tracker created no IndexedDB database');
    },
    barrier: (db) =>
      new Promise((resolve, reject) => {
        const stores = [...db.objectStoreNames];
        const tx = db.transaction(stores, 'readonly');
        tx.objectStore(stores[0]).count();
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      }),
  };
}

/**
 * outbox, a burst of `n` track() calls in one task with the default browser storage
 * (IndexedDB): the call alone, then until the tick's write has reached IndexedDB. A transport
 * that never answers keeps delivery out of it; queue caps are raised so the burst is not evicted.
 * Persistence is detected by a read-only transaction on the tracker's database, opened after the
 * burst: IndexedDB runs it only once every read-write transaction created before it has committed.
 * Wall times come from performance.now(); CPU times from the main thread's ThreadTime.
 */
export async function outboxBurstRun(browser, url, { n, warm }) {
  const tab = await openPage(browser, url);
  try {
    await tab.page.evaluate(installIdbProbe);
    await tab.page.evaluate(async ([count, warmCount]) => {
      const name = `bench-burst-${Math.random().toString(36).slice(2)}`;
      const tracker = window.Outbox.createTracker({
        endpoint: 'http://127.0.0.1:9/unused',
        name,
        transport: { send: () => new Promise(() => {}) },
        maxQueueEvents: 10 * (count + warmCount),
        maxQueueBytes: 1024 ** 3,
      });
      const { open, barrier } = window.benchIdb;
      const openDb = () => open(name);
      const countEvents = (db) =>
        new Promise((resolve, reject) => {
          const stores = [...db.objectStoreNames];
          const tx = db.transaction(stores, 'readonly');
          let events = 0;
          for (const store of stores) {
            const request = tx.objectStore(store).getAll();
            request.onsuccess = () => {
              for (const value of request.result) {
                const text = typeof value === 'string' ? value : JSON.stringify(value);
                events += text.split('"name":"click"').length - 1;
              }
            };
          }
          tx.oncomplete = () => resolve(events);
          tx.onerror = () => reject(tx.error);
        });
      const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));
      for (let i = 0; i < warmCount; i++) tracker.track('click', { id: 7 });
      const db = await openDb();
      await macrotask();
      await barrier(db);
      await new Promise((resolve) => setTimeout(resolve, 50));
      window.bench = { tracker, db, barrier, countEvents, macrotask, count, warmCount };
    }, [n, warm]);

    // The loop alone (paused right after it), then until the write has committed.
    const call = await tab.cpuOf(
      (count) => {
        const { tracker } = window.bench;
        const t0 = performance.now();
        for (let i = 0; i < count; i++) tracker.track('click', { id: 7 });
        window.bench.t0 = t0;
        window.bench.t1 = performance.now();
        debugger; // eslint-disable-line no-debugger
      },
      n,
      0,
    );
    const wall = await tab.page.evaluate(async () => {
      const { db, barrier, macrotask, t0, t1 } = window.bench;
      await macrotask();
      await barrier(db);
      return { callMs: t1 - t0, persistMs: performance.now() - t0 };
    });
    const clock1 = await tab.clock();
    // Checked after the clock: it reads everything back.
    const check = await tab.page.evaluate(async () => {
      const { db, barrier, countEvents, count, warmCount, t0 } = window.bench;
      let stored = await countEvents(db);
      // A storage layer that writes later than one macrotask: wait, and flag the figure as late.
      let late = false;
      for (let i = 0; i < 100 && stored < count + warmCount; i++) {
        late = true;
        await new Promise((resolve) => setTimeout(resolve, 20));
        await barrier(db);
        stored = await countEvents(db);
      }
      return { persistedAll: stored >= count + warmCount, late, lateMs: performance.now() - t0, crossOriginIsolated: self.crossOriginIsolated };
    });
    return {
      n,
      callUs: (wall.callMs * 1000) / n,
      persistUs: ((check.late ? check.lateMs : wall.persistMs) * 1000) / n,
      callCpuUs: (call.cpuMs * 1000) / n,
      // Main-thread CPU over the loop and the write (serialization into IndexedDB happens here).
      persistCpuUs: ((clock1.threadMs - call.before.threadMs) * 1000) / n,
      persistedAll: check.persistedAll,
      late: check.late,
      crossOriginIsolated: check.crossOriginIsolated,
    };
  } finally {
    await tab.close();
  }
}

/**
 * outbox, sustained: `n` events in bursts of `burst` per macrotask (MessageChannel), with
 * default options and `storage` ('default' = IndexedDB, or false), a transport that acks at once
 * (batching, persistence and acknowledgement run; no HTTP), until flush() resolves.
 */
export async function outboxSustainedRun(browser, url, { n, burst, storage }) {
  const tab = await openPage(browser, url);
  try {
    await tab.page.evaluate(async (store) => {
      const tracker = window.Outbox.createTracker({
        endpoint: 'http://127.0.0.1:9/unused',
        name: `bench-sustained-${Math.random().toString(36).slice(2)}`,
        ...(store === false ? { storage: false } : {}),
        transport: { send: async () => ({ kind: 'ok', status: 200 }) },
      });
      for (let i = 0; i < 5000; i++) tracker.track('click', { id: 7 });
      await tracker.flush(30_000);
      window.bench = { tracker };
    }, storage);
    const clock0 = await tab.clock();
    const result = await tab.page.evaluate(async ([count, size]) => {
      const { tracker } = window.bench;
      const channel = new MessageChannel();
      const turn = () => new Promise((resolve) => ((channel.port1.onmessage = resolve), channel.port2.postMessage(0)));
      const t0 = performance.now();
      for (let sent = 0; sent < count; sent += size) {
        for (let i = 0; i < size; i++) tracker.track('click', { id: 7 });
        await turn();
      }
      const ok = await tracker.flush(60_000);
      const ms = performance.now() - t0;
      const stats = tracker.stats();
      const dropped = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
      return { n: count, burst: size, ok, ms, sent: stats.sent, dropped };
    }, [n, burst]);
    const clock1 = await tab.clock();
    if (!result.ok) throw new Error('flush timed out');
    const cpuMs = clock1.threadMs - clock0.threadMs;
    return {
      ...result,
      usPerEvent: (result.ms * 1000) / n,
      eventsPerSec: n / (result.ms / 1000),
      cpuUsPerEvent: (cpuMs * 1000) / n,
      cpuEventsPerSec: n / (cpuMs / 1000),
    };
  } finally {
    await tab.close();
  }
}

/**
 * outbox delivery in Chromium: `n` events tracked, then flush() to the reference collector,
 * timed from the first track() until the tracker counts all `n` acknowledged. The tracker is
 * warmed up first (100 events delivered), so storage and tab coordination have started. If
 * flush() resolves true before every event was acknowledged, the run waits for them and says so.
 * `sourceId` tells this run's events apart at the collector: a page closed within a second of its
 * last acknowledgement still sends a stale fetchLater (duplicates), which may land in the next run.
 */
export async function outboxDeliverRun(browser, url, collector, { n, compression, storage, sourceId }) {
  const tab = await openPage(browser, url);
  try {
    await tab.page.evaluate(async ([endpoint, comp, store, source]) => {
      const tracker = window.Outbox.createTracker({
        endpoint,
        name: `bench-deliver-${Math.random().toString(36).slice(2)}`,
        sourceId: source,
        compression: comp,
        ...(store === false ? { storage: false } : {}),
      });
      const settled = async (count) => {
        for (let i = 0; i < 3000 && (tracker.stats().sent < count || tracker.stats().queued > 0); i++) await new Promise((resolve) => setTimeout(resolve, 5));
      };
      for (let i = 0; i < 100; i++) tracker.track('warm', { id: 7 });
      await tracker.flush(20_000);
      await settled(100);
      window.bench = { tracker, settled };
    }, [collector.endpoint, compression, storage, sourceId]);
    const before = await tab.clock();
    const result = await tab.page.evaluate(async (count) => {
      const { tracker, settled } = window.bench;
      const { sent: sent0, requests: requests0 } = tracker.stats();
      const t0 = performance.now();
      for (let i = 0; i < count; i++) tracker.track('click', { id: 7 });
      const trackedMs = performance.now() - t0;
      const ok = await tracker.flush(60_000);
      const flushMs = performance.now() - t0;
      const early = ok ? count - (tracker.stats().sent - sent0) : 0;
      if (early > 0) await settled(sent0 + count);
      const ms = performance.now() - t0;
      const stats = tracker.stats();
      return { n: count, ok, ms, flushMs, trackedMs, flushResolvedEarlyBy: early, eventsPerSec: count / (ms / 1000), requests: stats.requests - requests0, sent: stats.sent - sent0 };
    }, n);
    const after = await tab.clock();
    return { ...result, cpuUsPerEvent: ((after.threadMs - before.threadMs) * 1000) / n };
  } finally {
    await tab.close();
  }
}

/**
 * outbox, memory per queued event in Chromium: the V8 heap (CDP `Runtime.getHeapUsage`, after
 * three forced collections) before and after `n` track() calls, collector unreachable, with
 * `storage` ('default' = IndexedDB, or false). With IndexedDB, "after" waits until the burst's
 * write has committed, then `settleMs`, so that its transaction is garbage. Queue caps are raised
 * so that nothing is evicted and the delta is `n` entries exactly (Node's case keeps the default
 * 10,000 cap, which evicts its 300 warm-up events); `warm` events come first, so the code paths,
 * the database and the first failed request are not in the delta.
 */
export async function outboxMemoryRun(browser, url, { n, warm = 300, storage, settleMs = 500 }) {
  const tab = await openPage(browser, url);
  try {
    await tab.page.evaluate(installIdbProbe);
    await tab.page.evaluate(async ([warmCount, store, total]) => {
      const name = `bench-memory-${Math.random().toString(36).slice(2)}`;
      const tracker = window.Outbox.createTracker({
        endpoint: 'http://127.0.0.1:9/unreachable',
        name,
        ...(store === false ? { storage: false } : {}),
        flushIntervalMs: 3_600_000,
        retry: { baseMs: 3_600_000 },
        maxQueueEvents: 2 * total,
        maxQueueBytes: 1024 ** 3,
        onError: () => {},
      });
      for (let i = 0; i < warmCount; i++) tracker.track('click', { id: 7 });
      // Opened before "before", so the connection is in both heaps.
      const db = store === false ? undefined : await window.benchIdb.open(name);
      await new Promise((resolve) => setTimeout(resolve, 300));
      window.bench = { tracker, db };
    }, [warm, storage, n + warm]);
    await tab.cdp.send('HeapProfiler.enable');
    const heap = async () => {
      for (let i = 0; i < 3; i++) await tab.cdp.send('HeapProfiler.collectGarbage');
      return (await tab.cdp.send('Runtime.getHeapUsage')).usedSize;
    };
    const before = await heap();
    await tab.page.evaluate(async ([count, ms]) => {
      const { tracker, db } = window.bench;
      for (let i = 0; i < count; i++) tracker.track('click', { id: 7 });
      if (db) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        await window.benchIdb.barrier(db);
      }
      await new Promise((resolve) => setTimeout(resolve, ms));
    }, [n, settleMs]);
    const after = await heap();
    const stats = await tab.page.evaluate(() => {
      const s = window.bench.tracker.stats();
      return { queued: s.queued, queuedBytes: s.queuedBytes, dropped: Object.values(s.dropped).reduce((a, b) => a + b, 0) };
    });
    if (stats.queued !== n + warm || stats.dropped > 0) throw new Error(`memory: ${stats.queued}/${n + warm} events queued, ${stats.dropped} dropped`);
    const bytesPerEvent = (after - before) / n;
    const queuedBytesPerEvent = stats.queuedBytes / stats.queued;
    return { n, bytesPerEvent, queued: stats.queued, queuedBytesPerEvent, heapPerSerialized: bytesPerEvent / queuedBytesPerEvent, pageErrors: tab.errors.length };
  } finally {
    await tab.close();
  }
}
