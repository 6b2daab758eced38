// The built IIFE loads in every engine, defines window.Outbox, and delivers to the collector
// cross-origin without a CORS preflight.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPageServer, type PageServer } from './harness.js';
import { engines, launchEngine, type EngineBrowser } from './engine.js';
import { startCollector } from '../../demo/collector/collector.mjs';

describe.each(engines)('%s', (engine) => {
  let browser: EngineBrowser;
  let server: PageServer;
  let collector: Awaited<ReturnType<typeof startCollector>>;

  beforeAll(async () => {
    [browser, server, collector] = await Promise.all([launchEngine(engine), startPageServer(), startCollector({ port: 0, quiet: true })]);
    console.log(`[engines] ${browser.version}`);
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([server?.close(), collector?.close()]);
  });

  it('window.Outbox tracks and delivers cross-origin with no preflight', async () => {
    const context = await browser.newContext();
    const page = await context.newPage(`${server.url}/blank.html`);
    const delivered = await page.evaluate(async (endpoint) => {
      const Outbox = (window as unknown as { Outbox: typeof import('../../src/index.js') }).Outbox;
      const tracker = Outbox.createTracker({ endpoint, storage: false });
      for (let i = 0; i < 250; i++) tracker.track('smoke', { i });
      return tracker.flush(10_000);
    }, collector.endpoint);
    expect(delivered).toBe(true);
    expect(collector.events().filter((e: { name: string }) => e.name === 'smoke')).toHaveLength(250);
    expect(collector.stats().preflights).toBe(0);
    await context.close();
  });
});
