// Where the time goes: CPU profiles of the tracker, summarized as the functions with the most
// self and total time. Not part of `npm run bench`; run it after a change to see what moved.
//
//   node bench/profile.mjs [node-track|node-sustained|chromium-burst|chromium-sustained|chromium-deliver] ...
//
// Node profiles the built package (node --cpu-prof); Chromium profiles an unminified esbuild
// bundle of the IIFE entry (so function names survive) through the DevTools Profiler.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { startCollector } from '../demo/collector/collector.mjs';
import { html, launch, openPage } from './browser.mjs';
import { startPageServer } from './page-server.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const tmp = join(root, '.tmp', 'bench');
const top = 18;

/** Self and total (inclusive) time per function, as shares of the busy (non-idle) samples. */
export function summarize(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const key = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1}`;
  const self = new Map();
  const total = new Map();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (node.callFrame.functionName === '(idle)') return;
    busy += dt;
    self.set(key(node), (self.get(key(node)) ?? 0) + dt);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const k = key(byId.get(at));
      if (!seen.has(k)) total.set(k, (total.get(k) ?? 0) + dt);
      seen.add(k);
    }
  });
  const list = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, t]) => `  ${((100 * t) / busy).toFixed(1).padStart(5)} %  ${k}`);
  return [`busy ${(busy / 1000).toFixed(0)} ms`, 'self:', ...list(self), 'total:', ...list(total)].join('\n');
}

function nodeProfile(params) {
  const dir = join(tmp, 'cpuprof');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const out = execFileSync(process.execPath, ['--cpu-prof', '--cpu-prof-interval', '50', '--cpu-prof-dir', dir, join(root, 'bench/node-case.mjs'), JSON.stringify(params)], { encoding: 'utf8' });
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  return `${out.trim()}\n${summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')))}`;
}

async function chromiumProfile(scenario) {
  await esbuild.build({ entryPoints: [existsSync(join(root, 'src/entries/browser.ts')) ? join(root, 'src/entries/browser.ts') : join(root, 'src/index.ts')], bundle: true, format: 'iife', globalName: 'Outbox', platform: 'browser', outfile: join(tmp, 'outbox-debug.js'), logLevel: 'silent' });
  const [browser, server, collector] = await Promise.all([launch(), startPageServer({ '/bench-tmp/': `${tmp}/` }), startCollector({ quiet: true })]);
  const tab = await openPage(browser, server.page('/profile.html', html(['/bench-tmp/outbox-debug.js'])));
  try {
    await tab.page.evaluate(async ([endpoint, kind]) => {
      const options =
        kind === 'burst'
          ? { transport: { send: () => new Promise(() => {}) }, maxQueueEvents: 1e7, maxQueueBytes: 1e10 }
          : kind === 'sustained'
            ? { transport: { send: async () => ({ kind: 'ok', status: 200 }) } }
            : {};
      window.tracker = window.Outbox.createTracker({ endpoint, name: `profile-${Math.random()}`, ...options });
      for (let i = 0; i < 1000; i++) window.tracker.track('warm', { id: 7 });
      if (kind !== 'burst') await window.tracker.flush(20_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }, [collector.endpoint, scenario]);
    await tab.cdp.send('Profiler.enable');
    await tab.cdp.send('Profiler.setSamplingInterval', { interval: 50 });
    await tab.cdp.send('Profiler.start');
    const before = await tab.clock();
    const ms = await tab.page.evaluate(async (kind) => {
      const t0 = performance.now();
      if (kind === 'sustained') {
        // 100k events, 1,000 per task, acknowledged at once (as in bench/run.mjs).
        const channel = new MessageChannel();
        const turn = () => new Promise((resolve) => ((channel.port1.onmessage = resolve), channel.port2.postMessage(0)));
        for (let sent = 0; sent < 100_000; sent += 1000) {
          for (let i = 0; i < 1000; i++) window.tracker.track('click', { id: 7 });
          await turn();
        }
        await window.tracker.flush(60_000);
        return performance.now() - t0;
      }
      const n = kind === 'burst' ? 100_000 : 10_000;
      for (let i = 0; i < n; i++) window.tracker.track('click', { id: 7 });
      if (kind === 'deliver') await window.tracker.flush(60_000);
      else await new Promise((resolve) => setTimeout(resolve, 300)); // the tick's write
      return performance.now() - t0;
    }, scenario);
    const after = await tab.clock();
    const { profile } = await tab.cdp.send('Profiler.stop');
    return `wall ${ms.toFixed(0)} ms, main-thread CPU ${(after.threadMs - before.threadMs).toFixed(0)} ms\n${summarize(profile)}`;
  } finally {
    await tab.close();
    await browser.close();
    await Promise.all([server.close(), collector.close()]);
  }
}

const scenarios = {
  'node-track': () => nodeProfile({ case: 'track', n: 300_000 }),
  'node-sustained': () => nodeProfile({ case: 'sustained', n: 300_000 }),
  'chromium-burst': () => chromiumProfile('burst'),
  'chromium-sustained': () => chromiumProfile('sustained'),
  'chromium-deliver': () => chromiumProfile('deliver'),
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(scenarios);
  for (const name of names) {
    if (!scenarios[name]) {
      console.error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(', ')}`);
      process.exit(2);
    }
    console.log(`\n== ${name}\n${await scenarios[name]()}`);
  }
}
