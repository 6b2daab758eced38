// The script tag's send path gzips through the engine's own CompressionStream (the tracker
// carries no codec: design.md, departure 7), and sends plain where the engine has none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from './engine.js';
import { useEngine } from './engine-hooks.js';
import { startPageServer, collectorPerTest, type Collector, type PageServer } from './harness.js';

let server: PageServer;
let collector: Collector;

beforeAll(async () => {
  server = await startPageServer();
});
afterAll(() => server?.close());
collectorPerTest((started) => (collector = started));

const page = (name: string) =>
  server.page(
    `/c/${name}.html`,
    `<!doctype html><meta charset="utf-8"><script src="/dist/outbox.iife.js" data-endpoint="${collector.endpoint}" data-name="${name}" data-flush-interval-ms="50"></script><body>${name}</body>`,
  );

// 100 small events: one batch far above compressAboveBytes (1024), flushed and acknowledged.
async function trackAndFlush(open: (url: string) => Promise<{ evaluate<T, A>(fn: (arg: A) => T | Promise<T>, arg: A): Promise<T> }>, url: string): Promise<boolean> {
  const tab = await open(url);
  return tab.evaluate(async (count) => {
    const outbox = (window as unknown as { outbox: { track(name: string, p: object): void; flush(ms: number): Promise<boolean> } }).outbox;
    for (let i = 0; i < count; i++) outbox.track('compression.test', { i, path: '/catalog/item' });
    return outbox.flush(10_000);
  }, 100);
}

describe.each(engines)('%s', (engine) => {
  const run = useEngine(engine);

  it('gzips a batch through the engine’s CompressionStream, without a preflight', async () => {
    const context = await run.browser.newContext();
    try {
      expect(await trackAndFlush((url) => context.newPage(url), page(`gzip-${engine}`))).toBe(true);
      const stats = collector.stats();
      expect(stats.accepted).toBe(100);
      expect(stats.bytesInflated).toBeGreaterThan(stats.bytesIn * 3);
      expect(stats.preflights).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('sends plain where the engine has no CompressionStream', async () => {
    server.initScript('delete window.CompressionStream;');
    const context = await run.browser.newContext();
    try {
      expect(await trackAndFlush((url) => context.newPage(url), page(`plain-${engine}`))).toBe(true);
      const stats = collector.stats();
      expect(stats.accepted).toBe(100);
      expect(stats.bytesInflated).toBe(stats.bytesIn);
    } finally {
      server.initScript(null);
      await context.close();
    }
  });
});
