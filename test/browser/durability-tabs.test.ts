// Several tabs on one outbox, in every engine: one tab sends (Web Locks), the others append and
// nudge it; closing the sender hands over without loss; the caps hold for the shared outbox;
// without Web Locks every tab sends and leases keep them off each other's batches in flight.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPageServer, collectorPerTest, type PageServer } from './harness.js';
import { appUrl, expectDelivered, fast, openApp, pageStats, range, trackRange, type Collector } from './durability-helpers.js';
import { engines, type EnginePage } from './engine.js';
import { useEngine } from './engine-hooks.js';

let server: PageServer;
let collector: Collector;

beforeAll(async () => {
  server = await startPageServer();
});
afterAll(() => server?.close());
collectorPerTest((started) => (collector = started));

type Stats = { requests: number; queued: number; failedRequests: number; dropped: Record<string, number> };
const stats = (page: EnginePage) => pageStats<Stats>(page);
const senderLockHeld = (page: EnginePage) =>
  page.evaluate(async () => ((await navigator.locks.query()).held ?? []).some((lock) => lock.name === 'outbox:outbox:sender'));

describe.each(engines)('%s', (engine) => {
  const run = useEngine(engine);

  async function threeTabs(unload: boolean) {
    const context = await run.browser.newContext();
    collector.setFaults({ latencyMs: 300 }); // batches are in flight whenever a tab closes
    const url = appUrl(server, { endpoint: collector.endpoint, ...fast, maxBatchEvents: 100, unload });
    const first = await openApp(context, url);
    await expect.poll(() => senderLockHeld(first)).toBe(true);
    const tabs = [first, await openApp(context, url), await openApp(context, url)];
    const prefixes = ['a', 'b', 'c'];
    for (let part = 0; part < 10; part++) {
      await Promise.all(tabs.map((tab, i) => trackRange(tab, prefixes[i]!, part * 100, part * 100 + 100)));
    }
    const want = prefixes.flatMap((prefix) => range(prefix, 0, 1000));
    // One tab sends: the others made no request.
    expect((await Promise.all(tabs.slice(1).map(stats))).map((s) => s.requests)).toEqual([0, 0]);

    await tabs[0]!.close(); // the sender, mid-delivery
    await collector.waitFor((c) => c.stats().accepted >= 1500, 20_000);
    expect((await stats(tabs[2]!)).requests).toBe(0); // the second tab took over, not the third
    await tabs[1]!.close(); // the new sender, mid-delivery
    collector.clearFaults();
    const result = await expectDelivered(collector, '', want, unload ? 30_000 : 20_000, `${engine}: three tabs x 1000 events, closed one by one, unload ${unload ? 'on' : 'off'}`);
    // Once everything is acknowledged, the last tab dropped the copies of its own events too.
    await expect.poll(async () => (await stats(tabs[2]!)).queued).toBe(0);
    await context.close();
    return result;
  }

  it('three tabs tracking 1,000 events each, closed one by one (the sender first): all arrive', async () => {
    const { got, want } = await threeTabs(false);
    expect(got).toEqual([...want].sort());
  });

  it('the same with the unload path on: all arrive (its unload requests add duplicates, counted above)', async () => {
    const { got, want } = await threeTabs(true);
    expect(got).toEqual([...want].sort());
  });

  it('caps hold for the shared outbox: the sender evicts the oldest events of all tabs, and counts them', async () => {
    const context = await run.browser.newContext();
    const url = appUrl(server, { endpoint: collector.endpoint, ...fast, unload: false, flushIntervalMs: 60_000, maxBatchEvents: 1000, maxQueueEvents: 100 });
    const sender = await openApp(context, url);
    await expect.poll(() => senderLockHeld(sender)).toBe(true);
    const other = await openApp(context, url);
    await trackRange(sender, 'x', 0, 100);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await trackRange(other, 'y', 0, 100); // newer: these stay, the sender's older 100 go
    await expect.poll(async () => (await stats(sender)).dropped.overflow).toBe(100);
    expect(await sender.evaluate(() => (window as unknown as { tracker: { flush(ms: number): Promise<boolean> } }).tracker.flush(5000))).toBe(true);
    const { got } = await expectDelivered(collector, '', range('y', 0, 100), 5000, `${engine}: caps for the shared outbox`);
    expect(got).toEqual(range('y', 0, 100).sort());
    expect((await stats(other)).dropped.overflow).toBe(0);
    await context.close();
  });

  it('without Web Locks every tab sends, and a lease keeps a new tab off a batch in flight', async () => {
    const context = await run.browser.newContext();
    server.initScript(`Object.defineProperty(Navigator.prototype, 'locks', { configurable: true, get: () => undefined });`);
    try {
      collector.setFaults({ latencyMs: 1500 });
      const url = appUrl(server, { endpoint: collector.endpoint, ...fast, unload: false, timeoutMs: 3000 });
      const first = await openApp(context, url);
      await trackRange(first, 'f', 0, 50);
      await collector.waitFor((c) => c.stats().requests >= 1, 5000); // in flight, leased for 6 s
      await new Promise((resolve) => setTimeout(resolve, 50));
      const second = await openApp(context, url);
      await trackRange(second, 's', 0, 50);
      const { got, want, duplicates } = await expectDelivered(collector, '', [...range('f', 0, 50), ...range('s', 0, 50)], 10_000, `${engine}: no Web Locks, two tabs`);
      expect(got).toEqual(want);
      expect(duplicates).toBe(0);
      expect((await stats(second)).requests).toBeGreaterThan(0);
    } finally {
      server.initScript(null);
      await context.close();
    }
  });
});
