// The demo as `npm run demo` starts it (demo/run.mjs, without the Worker): the page renders, its
// live counters move when a burst is sent, a collector fault shows and heals, and everything the
// page tracked arrives in the durable collector's feed. Leaves a screenshot in test-results/demo.png.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from './harness.js';
import { startDemo } from '../../demo/run.mjs';

let browser: Browser;
let demo: Awaited<ReturnType<typeof startDemo>>;
let data: string;

beforeAll(async () => {
  data = await mkdtemp(join(tmpdir(), 'outbox-demo-'));
  [browser, demo] = await Promise.all([launchBrowser(), startDemo({ collectorPort: 0, pagePort: 0, worker: false, quiet: true, data })]);
});
afterAll(async () => {
  await browser?.close();
  await demo?.close();
  await rm(data, { recursive: true, force: true });
});

const number = async (page: Page, id: string) => Number((await page.textContent(`#${id}`))!.replace(/,/g, ''));

it('renders, and its live counters follow a burst, a fault and the recovery', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 960 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(demo.pageUrl);
  await page.waitForSelector('#live-status.good');
  await page.waitForSelector('#bundle-status.good');
  // The page_view queued by the snippet before the bundle arrived.
  await page.waitForFunction(() => document.getElementById('accepted')!.textContent === '1');

  await page.click('text=Burst 1,000');
  await page.waitForFunction(() => Number(document.getElementById('rate')!.textContent!.replace(/,/g, '')) > 0);
  await page.waitForFunction(() => document.getElementById('accepted')!.textContent === '1,001', undefined, { timeout: 10_000 });
  expect(await number(page, 'tracked')).toBe(1001);
  await page.waitForFunction(() => document.getElementById('sent')!.textContent === '1,001');

  // 500s: the collector's rejections show, the tab's queue holds the events, healing delivers them.
  await page.click('button:has-text("500s")');
  await page.waitForFunction(() => document.getElementById('faults')!.textContent === 'every request answers 500');
  await page.click('text=Burst 100');
  await page.waitForFunction(() => document.getElementById('rejected')!.textContent!.startsWith('500'));
  await page.waitForFunction(() => document.getElementById('queued')!.textContent === '100'); // held, not lost
  await page.click('button:has-text("Heal")');
  await page.waitForFunction(() => document.getElementById('accepted')!.textContent === '1,101', undefined, { timeout: 20_000 });
  await page.waitForSelector('#verdict.good');
  expect(await page.textContent('#verdict')).toBe('Everything tracked here was delivered.');
  expect(await number(page, 'preflights')).toBe(0);
  expect(demo.collector.stats().preflights).toBe(0);
  expect(await page.$$eval('#log li', (items) => items.length)).toBeGreaterThan(3);
  expect(errors).toEqual([]);
  // Stored for real: the durable collector's feed holds each of the 1,101 events once.
  const ids: string[] = [];
  let cursors = ['_first', '_first', '_first', '_first'];
  for (;;) {
    const query = `n=4&pagesizehint=1000&${cursors.map((c, i) => `cursor${i}=${c}`).join('&')}`;
    const response = await fetch(`${demo.durable.feedUrl}?${query}`, { headers: { authorization: `Bearer ${demo.durable.feedToken}` } });
    const next = cursors.slice();
    for (const line of (await response.text()).split('\n').filter(Boolean)) {
      const parsed = JSON.parse(line) as { partition: number; cursor?: string; data?: { id: string } };
      if (parsed.cursor !== undefined) next[parsed.partition] = parsed.cursor;
      else ids.push(parsed.data!.id);
    }
    if (next.every((c, i) => c === cursors[i])) break;
    cursors = next;
  }
  expect(ids).toHaveLength(1101);
  expect(new Set(ids).size).toBe(1101);
  await mkdir('test-results', { recursive: true });
  await page.screenshot({ path: 'test-results/demo.png', fullPage: true });
  await page.close();
});
