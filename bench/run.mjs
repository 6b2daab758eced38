// The benchmarks of outbox against its mission targets and against peer SDKs. Not a test: it
// measures and reports, it asserts nothing. `npm run bench` builds first, then runs this.
//
//   node bench/run.mjs [--quick] [--no-peers] [--peers=segment,posthog] [--no-collector] [--baseline=<git ref>]
//
// --baseline also builds that commit and measures the per-event figures of both builds, alternating
// samples (track() call and persistence in Chromium, Node call, heap per queued event in Node and
// Chromium, script tag).
//
// Writes bench/results.json (every sample's median, the configuration, the machine) and
// docs/benchmarks.md (the tables). Peers are installed on demand into .tmp/peers/ (git-ignored),
// never as project dependencies. Progress goes to stderr, the summary table to stdout.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startCollector } from '../demo/collector/collector.mjs';
import { buildBaseline } from './baseline.mjs';
import { bundleBlocks, measureBlocks } from './blocks.mjs';
import { benchCollector, collectorBenchConfig } from './collector.mjs';
import { compareRun, html, launch, outboxAdapter } from './browser.mjs';
import { measureEngines } from './engines.mjs';
import { outboxBurstRun, outboxDeliverRun, outboxMemoryRun, outboxSustainedRun } from './outbox-browser.mjs';
import { machine } from './machine.mjs';
import { startPageServer } from './page-server.mjs';
import { bundlePeer, ensurePeer, peers, publishedBundle } from './peers.mjs';
import { markdown, summary } from './report.mjs';
import { sizeBreakdown, sizeOf } from './size.mjs';
import { startSink } from './sink.mjs';
import { medianOf, repeat } from './stats.mjs';
import { startTcpMeter } from './tcp-meter.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const peerFilter = argv.find((a) => a.startsWith('--peers='))?.slice(8).split(',');
const withPeers = !argv.includes('--no-peers');
const baselineRef = argv.find((a) => a.startsWith('--baseline='))?.slice(11);

/** Every size and count of the run, in one place (also written to results.json). */
const config = {
  nodeRuns: quick ? 1 : 5,
  deliverRuns: quick ? 1 : 3,
  browserRuns: quick ? 1 : 3,
  trackEvents: 100_000,
  trackWarmup: 20_000,
  sustainedBurst: 1000,
  deliverEvents: 10_000,
  wireEvents: 1000,
  memoryEvents: 10_000,
  compareEvents: 1000,
  compareWarmup: 500,
  comparePerSdkBudgetMs: quick ? 20_000 : 40_000,
  marker: 'bench_click',
};

const started = Date.now();
const log = (message) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}\n`);
const errors = [];
const results = { machine: machine(root), config, size: {}, node: {}, chromium: {}, errors };
const tmp = join(root, '.tmp', 'bench');
mkdirSync(tmp, { recursive: true });

if (!existsSync(join(root, 'dist/outbox.iife.js')) || !existsSync(join(root, 'dist/index.js'))) {
  console.error('[bench] dist/ is missing: run `npm run bench` (it builds first) or `npm run build`.');
  process.exit(1);
}
// Everything measures one snapshot of the build: a rebuild of dist/ during the run (the build
// empties it first) would otherwise break or mix the measurements.
const dist = join(tmp, 'dist');
rmSync(dist, { recursive: true, force: true });
cpSync(join(root, 'dist'), dist, { recursive: true });
const distIndex = pathToFileURL(join(dist, 'index.js')).href;
if (!existsSync(join(dist, 'outbox.iife.js')) || !existsSync(join(dist, 'index.js'))) {
  console.error('[bench] dist/ changed while it was copied (a build running elsewhere?): run again.');
  process.exit(1);
}

let baseline;
if (baselineRef) {
  try {
    baseline = buildBaseline(root, baselineRef, tmp, (m) => process.stderr.write(`[bench] ${m}\n`));
  } catch (error) {
    console.error(`[bench] --baseline=${baselineRef}: ${error.message}`);
    process.exit(1);
  }
}

/** Runs a section; a failure is recorded and the run goes on. */
async function section(name, fn) {
  log(name);
  try {
    return await fn();
  } catch (error) {
    errors.push(`${name}: ${error?.message ?? error}`);
    log(`  failed: ${error?.message ?? error}`);
    return undefined;
  }
}

/** Runs `runs` samples of fn and keeps the median of each figure; errors are recorded. */
async function sampled(name, runs, fn) {
  const { samples, errors: failed } = await repeat(runs, fn);
  for (const message of failed) errors.push(`${name}: ${message}`);
  if (failed.length) log(`  ${name}: ${failed.length} run(s) failed: ${failed[0]}`);
  return medianOf(samples);
}

/** One Node measurement in a fresh process (bench/node-case.mjs); resolves with its JSON. */
function nodeCase(params, flags = []) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...flags, join(root, 'bench/node-case.mjs'), JSON.stringify({ dist: distIndex, ...params })], { timeout: 120_000, cwd: root }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${params.case}: ${String(stderr || error.message).trim().split('\n').slice(-3).join(' ')}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

// ---- 1. Sizes ----------------------------------------------------------------------------------
const peerBundles = {};
await section('sizes: outbox', async () => {
  results.size.outbox = { iife: sizeOf(join(dist, 'outbox.iife.js')), breakdown: await sizeBreakdown(root) };
});
const activePeers = [];
if (withPeers) {
  for (const peer of peers.filter((p) => !peerFilter || peerFilter.includes(p.id))) {
    await section(`sizes: ${peer.label}`, async () => {
      const installed = await ensurePeer(root, peer, log);
      if (!installed.ok) throw new Error(installed.error);
      peerBundles[peer.id] = await bundlePeer(root, peer, join(tmp, 'peers'));
      const published = publishedBundle(root, peer);
      results.size[peer.id] = {
        version: peer.version,
        esbuild: sizeOf(peerBundles[peer.id]),
        published: published ? { ...sizeOf(published), file: peer.published.note } : undefined,
      };
      activePeers.push(peer);
    });
  }
}

// ---- 2. Node ------------------------------------------------------------------------------------
const collector = await startCollector({ quiet: true });
await section('node: track() call cost (storage: false)', async () => {
  results.node.track = await sampled('node track', config.nodeRuns, () => nodeCase({ case: 'track', n: config.trackEvents, warm: config.trackWarmup }));
});
await section('node: sustained enqueue', async () => {
  results.node.sustained = await sampled('node sustained', config.nodeRuns, () => nodeCase({ case: 'sustained', n: config.trackEvents, burst: config.sustainedBurst }));
});
results.node.deliver = {};
for (const compression of ['gzip', 'none']) {
  await section(`node: deliver ${config.deliverEvents} events (${compression})`, async () => {
    results.node.deliver[compression] = await sampled(`node deliver ${compression}`, config.deliverRuns, async () => {
      collector.reset();
      const run = await nodeCase({ case: 'deliver', endpoint: collector.endpoint, n: config.deliverEvents, compression });
      const stats = collector.stats();
      if (!run.ok || stats.accepted !== config.deliverEvents) throw new Error(`collector has ${stats.accepted}/${config.deliverEvents} events (flush ${run.ok})`);
      return { ...run, cpuUsPerEvent: (run.cpuMs * 1000) / run.n, duplicates: stats.duplicates };
    });
  });
}
results.node.wire = {};
await section('node: wire bytes per event', async () => {
  const meter = await startTcpMeter(collector.port);
  try {
    for (const vary of [false, true]) {
      for (const compression of ['gzip', 'none']) {
        const key = `${vary ? 'varying' : 'identical'}/${compression}`;
        results.node.wire[key] = await sampled(`wire ${key}`, quick ? 1 : 3, async () => {
          collector.reset();
          meter.reset();
          const endpoint = `http://127.0.0.1:${meter.port}/v1/batch`;
          const run = await nodeCase({ case: 'deliver', endpoint, n: config.wireEvents, compression, vary });
          const stats = collector.stats();
          if (stats.accepted !== config.wireEvents) throw new Error(`collector has ${stats.accepted}/${config.wireEvents}`);
          const { up } = meter.counts();
          return { events: stats.accepted, requests: stats.requests, bodyBytesPerEvent: stats.bytesIn / stats.accepted, inflatedBytesPerEvent: stats.bytesInflated / stats.accepted, tcpBytesPerEvent: up / stats.accepted, sent: run.sent };
        });
      }
    }
  } finally {
    await meter.close();
  }
});
if (!argv.includes('--no-collector')) {
  await section('collector: ingest and feed through the local durable collector (1, 4, 16 partitions)', async () => {
    results.collector = await benchCollector(collectorBenchConfig(quick), log);
  });
}
await section('node: memory per queued event', async () => {
  results.node.memory = await sampled('node memory', quick ? 1 : 3, () => nodeCase({ case: 'memory', n: config.memoryEvents }, ['--expose-gc']));
});

// ---- 3. Chromium ------------------------------------------------------------------------------
let browser;
const server = await startPageServer({ '/dist/': `${dist}/`, '/peers/': join(tmp, 'peers/'), '/bench-tmp/': `${tmp}/`, ...(baseline && { '/baseline-dist/': `${baseline.dist}/` }) });
const sink = await startSink({ marker: config.marker });
await section('chromium: launch', async () => {
  browser = await launch();
  results.machine.chromium = browser.version();
});
if (browser) {
  const outboxUrl = server.page('/outbox.html', html(['/dist/outbox.iife.js'], outboxAdapter));
  await section('chromium: track() burst, call only and until persisted (IndexedDB)', async () => {
    results.chromium.burst = await sampled('chromium burst', config.browserRuns, () => outboxBurstRun(browser, outboxUrl, { n: config.trackEvents, warm: config.trackWarmup }));
  });
  results.chromium.sustained = {};
  for (const storage of ['default', false]) {
    const key = storage === false ? 'memory' : 'indexeddb';
    await section(`chromium: sustained enqueue (${key})`, async () => {
      results.chromium.sustained[key] = await sampled(`chromium sustained ${key}`, config.browserRuns, () =>
        outboxSustainedRun(browser, outboxUrl, { n: config.trackEvents, burst: config.sustainedBurst, storage }),
      );
    });
  }
  // Keys as for sustained: 'memory' is storage: false.
  results.chromium.memory = {};
  for (const storage of [false, 'default']) {
    const key = storage === false ? 'memory' : 'indexeddb';
    await section(`chromium: memory per queued event (${key})`, async () => {
      results.chromium.memory[key] = await sampled(`chromium memory ${key}`, config.browserRuns, () => outboxMemoryRun(browser, outboxUrl, { n: config.memoryEvents, storage }));
    });
  }
  if (baseline) {
    await section(`before/after: ${baseline.ref} (${baseline.commit}) against this build, alternating samples`, async () => {
      results.baseline = await compareBaseline(browser, server.page('/outbox-baseline.html', html(['/baseline-dist/outbox.iife.js'], outboxAdapter)), outboxUrl);
    });
  }
  results.chromium.deliver = {};
  for (const storage of ['default', false]) {
    for (const compression of ['gzip', 'none']) {
      const key = `${storage === false ? 'memory' : 'indexeddb'}/${compression}`;
      await section(`chromium: deliver ${config.deliverEvents} events (${key})`, async () => {
        results.chromium.deliver[key] = await sampled(`chromium deliver ${key}`, config.deliverRuns, async () => {
          collector.reset();
          const sourceId = `run-${Math.random().toString(36).slice(2)}`;
          const run = await outboxDeliverRun(browser, outboxUrl, collector, { n: config.deliverEvents, compression, storage, sourceId });
          const stats = collector.stats();
          const clicks = collector.events().filter((e) => e.name === 'click' && e.sourceId === sourceId).length;
          if (!run.ok || clicks !== config.deliverEvents) throw new Error(`collector has ${clicks}/${config.deliverEvents} events (flush ${run.ok})`);
          if (run.flushResolvedEarlyBy > 0) errors.push(`chromium deliver ${key}: flush() resolved true with ${run.flushResolvedEarlyBy} events not yet acknowledged`);
          return { ...run, duplicates: stats.duplicates, preflights: stats.preflights };
        });
      });
    }
  }

  results.chromium.compare = {};
  const sdks = [{ id: 'outbox', label: 'outbox', url: outboxUrl }, ...activePeers.map((p) => ({ id: p.id, label: p.label, url: server.page(`/${p.id}.html`, html([`/peers/${p.id}.js`], p.adapter)) }))];
  for (const sdk of sdks) {
    await section(`chromium: ${sdk.label}, ${config.compareEvents} events, call and CPU until delivered`, async () => {
      const deadline = Date.now() + config.comparePerSdkBudgetMs;
      const samples = [];
      for (let i = 0; i < config.browserRuns && (i === 0 || Date.now() < deadline); i++) {
        try {
          samples.push(await compareRun(browser, sdk.url, sink, { n: config.compareEvents, warm: config.compareWarmup, marker: config.marker }));
        } catch (error) {
          errors.push(`compare ${sdk.id}: ${error.message}`);
          log(`  run failed: ${error.message}`);
        }
      }
      if (samples.length) results.chromium.compare[sdk.id] = medianOf(samples);
    });
  }

  await section('chromium: building blocks of one delivery', async () => {
    await bundleBlocks(root, tmp);
    results.chromium.blocks = await measureBlocks(browser, server, sink, { ops: quick ? 30 : 100 });
  });
  await browser.close();
}
await Promise.all([server.close(), sink.close(), collector.close()]);

/**
 * The per-event figures of the baseline build and of this one: samples alternate (before, after,
 * before...) so that a machine getting busier mid-run weighs on both sides alike.
 */
async function compareBaseline(browser, beforeUrl, afterUrl) {
  const sides = { before: { url: beforeUrl, dist: pathToFileURL(join(baseline.dist, 'index.js')).href }, after: { url: afterUrl, dist: distIndex } };
  const fresh = () => ({ burst: [], sustained: [], track: [], memory: [], chromiumMemory: { memory: [], indexeddb: [] } });
  const samples = { before: fresh(), after: fresh() };
  for (let i = 0; i < config.browserRuns; i++) {
    for (const side of ['before', 'after']) {
      const { url, dist: sideDist } = sides[side];
      const s = samples[side];
      s.burst.push(await outboxBurstRun(browser, url, { n: config.trackEvents, warm: config.trackWarmup }));
      s.sustained.push(await outboxSustainedRun(browser, url, { n: config.trackEvents, burst: config.sustainedBurst, storage: 'default' }));
      s.track.push(await nodeCase({ case: 'track', n: config.trackEvents, warm: config.trackWarmup, dist: sideDist }));
      s.memory.push(await nodeCase({ case: 'memory', n: config.memoryEvents, dist: sideDist }, ['--expose-gc']));
      s.chromiumMemory.memory.push(await outboxMemoryRun(browser, url, { n: config.memoryEvents, storage: false }));
      s.chromiumMemory.indexeddb.push(await outboxMemoryRun(browser, url, { n: config.memoryEvents, storage: 'default' }));
    }
  }
  const reduce = (s) => ({
    burst: medianOf(s.burst),
    sustained: medianOf(s.sustained),
    track: medianOf(s.track),
    memory: medianOf(s.memory),
    chromiumMemory: { memory: medianOf(s.chromiumMemory.memory), indexeddb: medianOf(s.chromiumMemory.indexeddb) },
  });
  return {
    ref: baseline.ref,
    commit: baseline.commit,
    runs: config.browserRuns,
    before: { ...reduce(samples.before), size: sizeOf(join(baseline.dist, 'outbox.iife.js')) },
    after: { ...reduce(samples.after), size: sizeOf(join(dist, 'outbox.iife.js')) },
  };
}

// ---- Report -------------------------------------------------------------------------------------
await section('engines: outbox in Chromium, Firefox and WebKit (the test harness, CPU from /proc)', async () => {
  results.engines = await measureEngines({ root, distDir: dist, runs: config.browserRuns, log });
  errors.push(...results.engines.errors);
});

results.machine.loadAverageAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
results.machine.durationSec = Math.round((Date.now() - started) / 1000);
results.peers = Object.fromEntries(peers.map((p) => [p.id, { label: p.label, pkg: p.pkg, version: p.version, call: p.call, config: p.config, installed: activePeers.includes(p) }]));
writeFileSync(join(root, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
mkdirSync(join(root, 'docs'), { recursive: true });
writeFileSync(join(root, 'docs/benchmarks.md'), markdown(results));
process.stdout.write(summary(results));
log(`done in ${results.machine.durationSec} s: bench/results.json, docs/benchmarks.md${errors.length ? ` (${errors.length} errors, see results.json)` : ''}`);
