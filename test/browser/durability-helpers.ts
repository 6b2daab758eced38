// Shared by the durability scenarios: a page that starts a tracker from its URL (so a reload or a
// restart starts it again, as a real page would), id bookkeeping against the collector, and a
// SIGKILL for the browser of a persistent profile.
import { execFileSync } from 'node:child_process';
import type { BrowserContext } from 'playwright-core';
import type { PageServer } from './harness.js';
import type { Collector } from './harness.js';
import type { EngineContext, EnginePage } from './engine.js';

/** A tab of any engine (see engine.ts). */
type Page = EnginePage;

export type { Collector };

/** Options the test page passes to createTracker (JSON: no functions). */
export interface PageOptions {
  endpoint: string;
  [key: string]: unknown;
}

/** Short timers so scenarios take seconds: flush every 50 ms, retry from 100 ms, leases of 2 s. */
export const fast = {
  flushIntervalMs: 50,
  maxBatchEvents: 50,
  timeoutMs: 1000,
  retry: { baseMs: 100, maxDelayMs: 1000 },
} as const;

const appHtml = `<!doctype html><meta charset="utf-8"><title>durability</title>
<script src="/dist/outbox.iife.js"></script>
<script>
  const options = JSON.parse(new URLSearchParams(location.search).get('o'));
  // JSON cannot carry the injectable randomness: a number stands for a constant draw.
  if (typeof options.random === 'number') { const draw = options.random; options.random = () => draw; }
  window.errors = [];
  window.tracker = Outbox.createTracker({ ...options, onError: (e) => errors.push({ code: e.code, message: e.message }) });
  window.trackRange = (prefix, from, to) => { for (let i = from; i < to; i++) tracker.track('e', { i }, { id: prefix + i }); };
</script><body>durability</body>`;

/** Registers the tracker page and returns its URL for these options. */
export function appUrl(server: PageServer, options: PageOptions): string {
  return `${server.page('/t/durable.html', appHtml)}?o=${encodeURIComponent(JSON.stringify(options))}`;
}

/** Opens the tracker page in `context` (a fresh tab). */
export function openApp(context: EngineContext, url: string): Promise<Page> {
  return context.newPage(url);
}

type PageGlobals = { tracker: { track(name: string, properties?: object, options?: { id: string }): void } };

/**
 * Tracks `prefix0`, `prefix1`, ... one call at a time from the test (as a page would, while the
 * user reloads it) until `stop()` returns true. Returns the ids whose `track()` call completed,
 * and which of them the first page tracked; calls cut off by the navigation are `uncertain`: not
 * required to arrive, allowed to.
 */
export async function trackUntil(page: Page, prefix: string, stop: () => boolean): Promise<{ tracked: string[]; inFirstPage: string[]; uncertain: string[] }> {
  const tracked: string[] = [];
  const inFirstPage: string[] = [];
  const uncertain: string[] = [];
  let first: number | undefined;
  for (let i = 0; !stop(); i++) {
    const id = `${prefix}${i}`;
    const origin = await page
      .evaluate((id) => {
        (window as unknown as PageGlobals).tracker.track('s', {}, { id });
        return performance.timeOrigin; // tells the page before the reload from the one after
      }, id)
      .catch(() => undefined); // the page was navigating: this call may or may not have run
    if (origin === undefined) {
      uncertain.push(id); // it may arrive (WebKit: the call ran, its answer was lost to the navigation)
      continue;
    }
    first ??= origin;
    tracked.push(id);
    if (origin === first) inFirstPage.push(id);
  }
  return { tracked, inFirstPage, uncertain };
}

/** Runs `trackRange(prefix, from, to)` in the page. */
export const trackRange = (page: Page, prefix: string, from: number, to: number) =>
  page.evaluate(([p, a, b]) => (window as unknown as { trackRange(p: string, a: number, b: number): void }).trackRange(p, a, b), [prefix, from, to] as [string, number, number]);

/** The errors the page's tracker reported, by code. */
export const pageErrors = (page: Page) => page.evaluate(() => (window as unknown as { errors: { code: string; message: string }[] }).errors);

/** The page tracker's stats() (JSON). */
export const pageStats = <T = { requests: number; queued: number; failedRequests: number; dropped: Record<string, number> }>(page: Page) =>
  page.evaluate(() => (window as unknown as { tracker: { stats(): unknown } }).tracker.stats()) as Promise<T>;

/**
 * When a delivery test comes up short: what the page's tracker says (stats, reported errors), and
 * whether a nudge (`online`: send now, backoff reset) gets it going again within 3 s. Firefox
 * stalled twice in ~40 runs of this file with the queue idle (no request, nothing in flight)
 * after its first two failures; this tells a dead timer from a stuck queue in CI logs.
 */
export async function logStall(page: Page, collector: Collector, label: string): Promise<void> {
  const before = await pageStats(page);
  console.log(`[durability] ${label}: stalled? stats ${JSON.stringify(before)}; errors ${JSON.stringify(await pageErrors(page))}; collector ${JSON.stringify(collector.stats())}; ${await page.evaluate(() => document.visibilityState)}`);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await new Promise((resolve) => setTimeout(resolve, 3000));
  console.log(`[durability] ${label}: after an online nudge: ${JSON.stringify(await pageStats(page))}`);
}

export const range = (prefix: string, from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

/** Ids the collector stored that start with `prefix`, sorted. */
export const delivered = (collector: Collector, prefix: string): string[] =>
  collector
    .events()
    .map((event: { id: string }) => event.id)
    .filter((id: string) => id.startsWith(prefix))
    .sort();

/** Waits until every id arrived, then returns what arrived and the duplicates seen on the wire. */
export async function expectDelivered(collector: Collector, prefix: string, ids: readonly string[], timeoutMs: number, label: string) {
  const want = [...ids].sort();
  const arrived = () => new Set(delivered(collector, prefix));
  // On timeout, fall through: the caller's assertion then shows which ids are missing.
  await collector.waitFor(() => want.every((id) => arrived().has(id)), timeoutMs).catch(() => undefined);
  const got = delivered(collector, prefix);
  const { duplicates, duplicateRequests, accepted } = collector.stats();
  console.log(`[durability] ${label}: ${got.length}/${want.length} ids delivered, ${duplicates} duplicate events on the wire (${duplicateRequests} repeated requests), ${accepted} accepted`);
  return { got, want, duplicates };
}

/** The main process of the Chromium running on profile `dir` (the one without `--type=`). */
export function browserPid(dir: string): number {
  const lines = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n');
  const main = lines.find((line) => line.includes(`--user-data-dir=${dir}`) && !line.includes('--type='));
  if (!main) throw new Error(`no Chromium process for profile ${dir}`);
  return Number(main.trim().split(/\s+/)[0]);
}

/** SIGKILLs the Chromium of a persistent Playwright context: no unload handler, no clean shutdown. */
export async function killBrowser(context: BrowserContext, dir: string): Promise<void> {
  const closed = new Promise<void>((resolve) => context.once('close', () => resolve()));
  process.kill(browserPid(dir), 'SIGKILL');
  await closed;
}
