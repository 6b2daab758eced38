// outbox in Chromium, Firefox ESR and WebKitGTK, the same way in each: the engines are driven by
// the browser tests' harness (test/browser/engine.ts, bundled here with esbuild), and CPU is read
// from /proc for every process of the engine (CDP's ThreadTime exists in Chromium only).
//
//   node bench/engines.mjs [--quick]   measures, merges `engines` into bench/results.json and
//                                      rewrites docs/benchmarks.md from it (run.mjs calls
//                                      measureEngines() too, as part of `npm run bench`)
// OUTBOX_ENGINES=firefox,webkit narrows the engines, as for the tests.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { startCollector } from '../demo/collector/collector.mjs';
import { descendantsCpuMs } from './process-cpu.mjs';
import { startPageServer } from './page-server.mjs';
import { sizeOf } from './size.mjs';
import { medianOf } from './stats.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The test harness as a plain ES module (esbuild; its npm imports stay external). */
export async function loadHarness(root) {
  const outfile = join(root, '.tmp', 'bench', 'engine-harness.mjs');
  mkdirSync(join(root, '.tmp', 'bench'), { recursive: true });
  await esbuild.build({ entryPoints: [join(root, 'test/browser/engine.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'silent' });
  return import(`${pathToFileURL(outfile).href}?${Date.now()}`);
}

// In the page: `n` track() calls in one loop after `warm` ones, default storage (IndexedDB), a
// transport that never answers (delivery stays out of it), caps raised so nothing is evicted.
function trackCallInPage([n, warm]) {
  const tracker = window.Outbox.createTracker({
    endpoint: 'http://127.0.0.1:9/unused',
    name: `bench-call-${Math.random().toString(36).slice(2)}`,
    transport: { send: () => new Promise(() => {}) },
    maxQueueEvents: 10 * (n + warm),
    maxQueueBytes: 1024 ** 3,
  });
  for (let i = 0; i < warm; i++) tracker.track('click', { id: 7 });
  return new Promise((resolve) =>
    setTimeout(() => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) tracker.track('click', { id: 7 });
      resolve(performance.now() - t0);
    }, 300),
  );
}

function deliverInPage([endpoint, n]) {
  const tracker = window.Outbox.createTracker({ endpoint, name: `bench-deliver-${Math.random().toString(36).slice(2)}` });
  window.benchTracker = tracker;
  for (let i = 0; i < n; i++) tracker.track('click', { id: 7 });
  return true;
}

/** CPU of the engine's processes per ms while nothing happens (timers, the idle page). */
async function idleCpuPerMs(ms) {
  const cpu0 = descendantsCpuMs();
  const t0 = Date.now();
  await sleep(ms);
  return (descendantsCpuMs() - cpu0) / (Date.now() - t0);
}

async function until(predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/**
 * Measures outbox in each engine of `engineNames`: track() call cost, delivery of `deliverEvents`
 * events to the reference collector (wall time), and the CPU of all the engine's processes per
 * delivered event (idle CPU subtracted). Resolves with results keyed by engine; an engine that
 * fails is reported in `errors` and the others go on.
 */
export async function measureEngines({ root, distDir = join(root, 'dist'), engineNames, runs = 3, trackEvents = 100_000, trackWarmup = 20_000, deliverEvents = 10_000, log = () => {} }) {
  const harness = await loadHarness(root);
  const server = await startPageServer({ '/dist/': distDir });
  const page = server.page('/engines.html', '<!doctype html><meta charset="utf-8"><script src="/dist/outbox.iife.js"></script><body>bench</body>');
  const out = { loadAverage: loadavg().map((l) => Math.round(l * 100) / 100), scriptTagBytes: sizeOf(join(distDir, 'outbox.iife.js')), runs, trackEvents, deliverEvents, errors: [] };
  try {
    for (const engine of engineNames ?? harness.engines) {
      log(`engines: ${engine}`);
      let browser;
      try {
        browser = await harness.launchEngine(engine);
        const calls = [];
        const deliveries = [];
        for (let run = 0; run < runs; run++) {
          const context = await browser.newContext();
          const tab = await context.newPage(page);
          const ms = await tab.evaluate(trackCallInPage, [trackEvents, trackWarmup]);
          calls.push({ callUs: (ms * 1000) / trackEvents });
          await context.close();
        }
        for (let run = 0; run < runs; run++) {
          const collector = await startCollector({ port: 0, quiet: true });
          const context = await browser.newContext();
          const tab = await context.newPage(page);
          await sleep(300);
          const idle = await idleCpuPerMs(1000);
          const cpu0 = descendantsCpuMs();
          const t0 = Date.now();
          await tab.evaluate(deliverInPage, [collector.endpoint, deliverEvents]);
          const arrived = await until(() => collector.stats().accepted >= deliverEvents, 60_000);
          const deliveredMs = Date.now() - t0;
          const cpuMs = descendantsCpuMs() - cpu0 - idle * (Date.now() - t0);
          const stats = collector.stats();
          await context.close();
          await collector.close();
          if (!arrived) throw new Error(`${engine}: only ${stats.accepted}/${deliverEvents} events arrived within 60 s`);
          deliveries.push({ deliveredMs, cpuUsPerEvent: (Math.max(0, cpuMs) * 1000) / deliverEvents, requests: stats.requests, preflights: stats.preflights, bytesPerEvent: stats.bytesIn / deliverEvents });
        }
        out[engine] = { version: browser.version, track: medianOf(calls), deliver: medianOf(deliveries) };
        log(`  ${browser.version}: track() ${out[engine].track.callUs.toFixed(2)} µs, ${deliverEvents} delivered in ${out[engine].deliver.deliveredMs} ms, ${out[engine].deliver.cpuUsPerEvent.toFixed(1)} µs CPU per event`);
      } catch (error) {
        out.errors.push(`${engine}: ${error?.message ?? error}`);
        log(`  ${engine} failed: ${error?.message ?? error}`);
      } finally {
        await browser?.close().catch(() => undefined);
      }
    }
  } finally {
    await server.close();
  }
  return out;
}

// Standalone: measure, merge into results.json, rewrite docs/benchmarks.md.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const quick = process.argv.includes('--quick');
  const started = Date.now();
  const log = (message) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}\n`);
  const engines = await measureEngines({ root, runs: quick ? 1 : 3, log });
  const file = join(root, 'bench/results.json');
  const results = JSON.parse(readFileSync(file, 'utf8'));
  results.engines = engines;
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  const { markdown } = await import('./report.mjs');
  writeFileSync(join(root, 'docs/benchmarks.md'), markdown(results));
  log('done: bench/results.json (engines), docs/benchmarks.md');
}
