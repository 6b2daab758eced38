// Chromium measurements: Debian's /usr/bin/chromium driven by playwright-core (flags from
// shared/toolchain.md), pages served from 127.0.0.1 (a secure context, cross-origin isolated for
// 5 µs timers), the SDK under test loaded as a script tag.
import { chromium } from 'playwright-core';
import { sleep, until } from './stats.mjs';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const args = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launch() {
  return chromium.launch({ executablePath: chromiumPath, args });
}

/** A page of its own context (fresh storage), with a CDP session for main-thread metrics. */
export async function openPage(browser, url) {
  // A headless user agent is filtered as a bot by some SDKs (posthog-js drops its events):
  // every SDK gets the desktop Chrome user agent of the same version instead.
  const context = await browser.newContext({ userAgent: await userAgent(browser) });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error.message ?? error)));
  let debuggerOn = false;
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.goto(url);
  return {
    page,
    cdp,
    errors,
    /**
     * The renderer main thread so far, in ms: `threadMs` is its CPU time (ThreadTime, immune to
     * other processes taking the cores), `taskMs` the wall time of its tasks (TaskDuration).
     */
    async clock() {
      const { metrics } = await cdp.send('Performance.getMetrics');
      const get = (name) => metrics.find((m) => m.name === name).value * 1000;
      return { threadMs: get('ThreadTime'), taskMs: get('TaskDuration') };
    },
    /**
     * Runs `pageFunction(arg)`, which must reach a `debugger;` statement right after the code to
     * measure (before any await): the page pauses there, synchronously, before its microtasks
     * and deferred work run, so the main thread's CPU time can be read for the code alone.
     * The fixed cost of one evaluate and pause (measured with `baselineArg`) is subtracted.
     */
    async cpuOf(pageFunction, arg, baselineArg) {
      if (!debuggerOn) {
        await cdp.send('Debugger.enable');
        debuggerOn = true;
      }
      const once = async (value) => {
        const paused = new Promise((resolve) => cdp.once('Debugger.paused', resolve));
        const before = await this.clock();
        const result = page.evaluate(pageFunction, value);
        await Promise.race([paused, result.then(() => Promise.reject(new Error('the page function never paused (no debugger statement reached)')))]);
        const at = await this.clock();
        await cdp.send('Debugger.resume');
        return { cpuMs: at.threadMs - before.threadMs, before, at, result: await result };
      };
      const base = baselineArg === undefined ? { cpuMs: 0 } : await once(baselineArg);
      const run = await once(arg);
      return { ...run, cpuMs: Math.max(0, run.cpuMs - base.cpuMs) };
    },
    close: () => context.close(),
  };
}

let agent;
async function userAgent(browser) {
  if (!agent) {
    const page = await browser.newPage();
    agent = (await page.evaluate(() => navigator.userAgent)).replace('HeadlessChrome', 'Chrome');
    await page.close();
  }
  return agent;
}

/** The HTML of a page that loads `scripts` (URLs) and then runs `inline` (source). */
export function html(scripts, inline = '') {
  return `<!doctype html><meta charset="utf-8"><title>outbox bench</title>${scripts.map((s) => `<script src="${s}"></script>`).join('')}<script>${inline}</script><body>bench</body>`;
}

/** The in-page adapter for outbox: the same `benchSdk` shape as the peers', default options. */
export const outboxAdapter = `window.benchSdk = {
  async init(endpoint) { this.tracker = Outbox.createTracker({ endpoint, name: 'bench-' + Math.random().toString(36).slice(2) }); },
  track(name) { this.tracker.track(name, { id: 7 }); },
};`;

/**
 * The cross-SDK comparison, the same for every SDK: init against the sink, warm up with `warm`
 * events and wait for them to arrive, then time `n` calls in one loop (call only), and measure
 * the main thread's task time from just before the loop until the sink has all `n` events plus
 * `settleMs` (deferred work: persistence, batching, serialization, sending, acknowledgement).
 */
export async function compareRun(browser, url, sink, { n, warm, marker, timeoutMs = 60_000, settleMs = 500 }) {
  const tab = await openPage(browser, url);
  try {
    await tab.page.evaluate((endpoint) => window.benchSdk.init(endpoint), sink.url);
    sink.reset();
    await tab.page.evaluate(([w, name]) => {
      for (let i = 0; i < w; i++) window.benchSdk.track(name);
    }, [warm, marker]);
    if (!(await until(() => sink.counts().events >= warm, timeoutMs))) throw new Error(`warm-up: ${sink.counts().events}/${warm} events arrived`);
    await sleep(settleMs);
    sink.reset();
    const started = Date.now();
    const call = await tab.cpuOf(
      ([count, name]) => {
        const t0 = performance.now();
        for (let i = 0; i < count; i++) window.benchSdk.track(name);
        const ms = performance.now() - t0;
        debugger; // eslint-disable-line no-debugger
        return ms;
      },
      [n, marker],
      [0, marker],
    );
    const clock0 = call.before;
    const callMs = call.result;
    const arrived = await until(() => sink.counts().events >= n, timeoutMs);
    const deliveredMs = Date.now() - started;
    await sleep(settleMs);
    const clock2 = await tab.clock();
    const counts = sink.counts();
    if (!arrived) throw new Error(`only ${counts.events}/${n} events arrived within ${timeoutMs} ms`);
    return {
      n,
      callUs: (callMs * 1000) / n,
      callCpuUs: (call.cpuMs * 1000) / n,
      cpuUs: ((clock2.threadMs - clock0.threadMs) * 1000) / n,
      taskUs: ((clock2.taskMs - clock0.taskMs) * 1000) / n,
      deliveredMs,
      requests: counts.requests,
      preflights: counts.preflights,
      bodyBytesPerEvent: counts.bytesIn / n,
      headerBytesPerEvent: counts.headerBytesIn / n,
      pageErrors: tab.errors.length,
    };
  } finally {
    await tab.close();
    await sleep(300); // what the page sends at teardown lands before the next SDK's window
  }
}

