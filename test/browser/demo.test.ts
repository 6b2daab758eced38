// The demo as `npm run demo` starts it (demo/run.mjs, without the Worker), in every engine: the
// page renders, its live counters move when a burst is sent, a collector fault shows and heals,
// and everything the page tracked arrives. Leaves a screenshot per engine in
// test-results/demo-<engine>.png.
import { mkdir, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, type EnginePage } from './engine.js';
import { useEngine } from './engine-hooks.js';
import { startDemo } from '../../demo/run.mjs';

const text = (page: EnginePage, selector: string) => page.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector);
const number = async (page: EnginePage, id: string) => Number((await text(page, `#${id}`))!.replace(/,/g, ''));
/** Clicks the first button whose text contains `label` (engine-neutral: a DOM click). */
const click = (page: EnginePage, label: string) =>
  page.evaluate((l) => {
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent!.includes(l));
    if (!button) throw new Error(`no button "${l}"`);
    button.click();
  }, label);
const textIs = (page: EnginePage, id: string, value: string, timeoutMs?: number) =>
  page.waitForFunction(([i, v]) => document.getElementById(i)?.textContent === v, [id, value] as [string, string], timeoutMs);

describe.each(engines)('%s', (engine) => {
  const run = useEngine(engine);
  // A demo (collector and page server) per engine: each run starts from empty counters.
  let demo: Awaited<ReturnType<typeof startDemo>>;
  beforeAll(async () => {
    demo = await startDemo({ collectorPort: 0, pagePort: 0, worker: false, quiet: true });
  });
  afterAll(() => demo?.close());

  it('renders, and its live counters follow a burst, a fault and the recovery', async () => {
    const context = await run.browser.newContext();
    const page = await context.newPage(demo.pageUrl);
    // Errors after load are collected in the page (no engine-neutral page-error listener).
    await page.evaluate(() => {
      const errors: string[] = [];
      (window as unknown as { pageErrors: string[] }).pageErrors = errors;
      addEventListener('error', (event) => errors.push(event.message));
      addEventListener('unhandledrejection', (event) => errors.push(String(event.reason)));
    });
    await page.waitForFunction(() => document.querySelector('#live-status.good') !== null);
    await page.waitForFunction(() => document.querySelector('#bundle-status.good') !== null);
    // The page_view queued by the snippet before the bundle arrived.
    await textIs(page, 'accepted', '1');

    await click(page, 'Burst 1,000');
    await page.waitForFunction(() => Number(document.getElementById('rate')!.textContent!.replace(/,/g, '')) > 0);
    await textIs(page, 'accepted', '1,001', 10_000);
    expect(await number(page, 'tracked')).toBe(1001);
    await textIs(page, 'sent', '1,001');

    // 500s: the collector's rejections show, the tab's queue holds the events, healing delivers them.
    await click(page, '500s');
    await textIs(page, 'faults', 'every request answers 500');
    await click(page, 'Burst 100');
    await page.waitForFunction(() => document.getElementById('rejected')!.textContent!.startsWith('500'));
    await textIs(page, 'queued', '100'); // held, not lost
    await click(page, 'Heal');
    await textIs(page, 'accepted', '1,101', 20_000);
    await page.waitForFunction(() => document.querySelector('#verdict.good') !== null);
    expect(await text(page, '#verdict')).toBe('Everything tracked here was delivered.');
    expect(await number(page, 'preflights')).toBe(0);
    expect(demo.collector.stats().preflights).toBe(0);
    expect(await page.evaluate(() => document.querySelectorAll('#log li').length)).toBeGreaterThan(3);
    expect(await page.evaluate(() => (window as unknown as { pageErrors: string[] }).pageErrors)).toEqual([]);
    await mkdir('test-results', { recursive: true });
    await writeFile(`test-results/demo-${engine}.png`, await page.screenshot());
    await context.close();
  });
});
