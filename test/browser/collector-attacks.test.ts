// What a page of another site can do to the reference collector, tried in real Chromium (issue
// 10): with the test controls on, it cannot change or read the collector's state, by a no-cors
// POST or by a CORS request with the control header; it can still send events and read replies.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, startPageServer, type PageServer } from './harness.js';
import { startCollector } from '../../demo/collector/collector.mjs';

let browser: Browser;
let server: PageServer;
let collector: Awaited<ReturnType<typeof startCollector>>;

beforeAll(async () => {
  [browser, server, collector] = await Promise.all([launchBrowser(), startPageServer(), startCollector({ port: 0, quiet: true, testControls: true })]);
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([server?.close(), collector?.close()]);
});

it('an attacking page can neither set faults, reset, nor read events; ingest still works', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}/blank.html`);
  const result = await page.evaluate(async (base) => {
    const settle = (p: Promise<Response>) => p.then((r) => `status ${r.status}`, (e: Error) => `failed: ${e.name}`);
    const ingest = await fetch(`${base}/v1/batch?rid=attack-page`, { method: 'POST', body: JSON.stringify({ events: [{ id: 'legit', name: 'n', timestamp: 1 }] }) });
    return {
      ingest: { status: ingest.status, body: await ingest.json() },
      // The attack of issue 10: a simple POST that needs no CORS answer to do its harm.
      noCorsFaults: await settle(fetch(`${base}/faults`, { method: 'POST', mode: 'no-cors', body: '{"rejectStatus":400}' })),
      noCorsReset: await settle(fetch(`${base}/reset`, { method: 'POST', mode: 'no-cors' })),
      // With the header the browser must ask first, and the preflight gets no CORS answer.
      corsFaults: await settle(fetch(`${base}/faults`, { method: 'POST', headers: { 'x-outbox-test-control': '1' }, body: '{"rejectStatus":400}' })),
      readEvents: await settle(fetch(`${base}/events`)),
      readFeed: await settle(fetch(`${base}/feed/v1?n=4&cursor0=_first`)),
      receipt: await (await fetch(`${base}/v1/batch?receipt=attack-page`)).json(),
    };
  }, collector.url);

  expect(result.ingest).toEqual({ status: 200, body: { accepted: 1, duplicates: 0 } });
  expect(result.receipt).toEqual({ rid: 'attack-page', received: true });
  // no-cors answers are opaque (status 0) whatever happened: the collector's state says what did.
  expect(result.noCorsFaults).toBe('status 0');
  expect(result.noCorsReset).toBe('status 0');
  expect(result.corsFaults).toBe('failed: TypeError');
  expect(result.readEvents).toBe('failed: TypeError');
  expect(result.readFeed).toBe('failed: TypeError');
  expect(collector.faults()).toEqual({});
  expect(collector.events().map((e: { id: string }) => e.id)).toEqual(['legit']);
  // The header-carrying POST made the browser ask first (a preflight), and it went no further.
  expect(collector.stats().preflights).toBe(1);
  await page.close();
});
