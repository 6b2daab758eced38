// The built IIFE loads in real Chromium, defines window.Outbox, and delivers to the collector
// cross-origin without a CORS preflight.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, startPageServer, type PageServer } from './harness.js';
import { startCollector } from '../../demo/collector/collector.mjs';

let browser: Browser;
let server: PageServer;
let collector: Awaited<ReturnType<typeof startCollector>>;

beforeAll(async () => {
  [browser, server, collector] = await Promise.all([launchBrowser(), startPageServer(), startCollector({ port: 0, quiet: true })]);
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([server?.close(), collector?.close()]);
});

it('window.Outbox tracks and delivers cross-origin with no preflight', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}/blank.html`);
  const delivered = await page.evaluate(async (endpoint) => {
    const Outbox = (window as unknown as { Outbox: typeof import('../../src/index.js') }).Outbox;
    const tracker = Outbox.createTracker({ endpoint, storage: false });
    for (let i = 0; i < 250; i++) tracker.track('smoke', { i });
    return tracker.flush(10_000);
  }, collector.endpoint);
  expect(delivered).toBe(true);
  expect(collector.events().filter((e: { name: string }) => e.name === 'smoke')).toHaveLength(250);
  expect(collector.stats().preflights).toBe(0);
  await page.close();
});
