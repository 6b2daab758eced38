// The durable collector on this machine: ingest events/s through `npm run collector`'s Worker
// (workerd via Miniflare, Durable Objects with SQLite persisted to a temporary --data) with 1, 4
// and 16 partitions, and feed-read events/s. Cheap: a few seconds per partition count.
//
//   node bench/collector.mjs [--quick]   # measures, merges into bench/results.json, rewrites docs/benchmarks.md
//
// bench/run.mjs calls benchCollector() as one of its sections (skip it with --no-collector).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalCollector } from '../scripts/collector.mjs';
import { machine } from './machine.mjs';
import { median } from './stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const feedToken = 'bench';

/**
 * @typedef {object} CollectorBenchConfig
 * @property {number[]} partitionCounts
 * @property {number} events events sent per run
 * @property {number} batchEvents events per request (the tracker's default maxBatchEvents)
 * @property {number} concurrency requests in flight
 * @property {number} sources distinct sourceIds
 * @property {('one-source' | 'spread')[]} layouts a request's events from one source (a browser's
 *   batch: one partition) or spread over all sources (a server's batch: every partition)
 * @property {number} runs runs per partition count (median kept)
 * @property {number} pageSize feed pagesizehint
 */

/** @param {boolean} quick @returns {CollectorBenchConfig} */
export function collectorBenchConfig(quick) {
  return { partitionCounts: [1, 4, 16], layouts: ['one-source', 'spread'], events: quick ? 5000 : 10_000, batchEvents: 100, concurrency: 8, sources: 1000, runs: quick ? 1 : 3, pageSize: 1000 };
}

/**
 * Measures every partition count; a fresh --data for each run.
 * @param {CollectorBenchConfig} config
 * @param {(message: string) => void} [log]
 */
export async function benchCollector(config, log = () => {}) {
  const rows = [];
  for (const layout of config.layouts) for (const partitions of config.partitionCounts) {
    const samples = [];
    for (let run = 0; run < config.runs; run++) samples.push(await oneRun(config, partitions, layout));
    const row = {
      layout,
      partitions,
      ingestEventsPerSec: median(samples.map((s) => s.ingestEventsPerSec)),
      ingestRequestsPerSec: median(samples.map((s) => s.ingestRequestsPerSec)),
      ingestP50Ms: median(samples.map((s) => s.p50Ms)),
      ingestP99Ms: median(samples.map((s) => s.p99Ms)),
      feedEventsPerSec: median(samples.map((s) => s.feedEventsPerSec)),
      ingestCpuMsPer1000: median(samples.map((s) => s.ingestCpuMsPer1000)),
      feedCpuMsPer1000: median(samples.map((s) => s.feedCpuMsPer1000)),
      startMs: median(samples.map((s) => s.startMs)),
      samples,
    };
    log(`  ${layout}, ${partitions} partition(s): workerd CPU ${row.ingestCpuMsPer1000?.toFixed(0)} ms per 1000 events ingested, ${row.feedCpuMsPer1000?.toFixed(0)} ms per 1000 read; ingest ${Math.round(row.ingestEventsPerSec)} events/s (p50 ${row.ingestP50Ms.toFixed(1)} ms, p99 ${row.ingestP99Ms.toFixed(1)} ms a request), feed ${Math.round(row.feedEventsPerSec)} events/s`);
    rows.push(row);
  }
  const sequential = await sequentialLatency(config);
  log(`  one request at a time, 1 partition: p50 ${sequential.oneEventP50Ms.toFixed(1)} ms for 1 event, ${sequential.batchP50Ms.toFixed(1)} ms for ${config.batchEvents}`);
  return { config, rows, sequential };
}

/**
 * What one commit costs: requests one at a time (no queueing) to one partition, of 1 event and of
 * a full batch, each with a rid; the median latency of each.
 * @param {CollectorBenchConfig} config
 */
async function sequentialLatency(config) {
  const data = mkdtempSync(join(tmpdir(), 'outbox-bench-collector-'));
  const collector = await startLocalCollector({ data, port: 0, partitions: 1, feedToken, quiet: true });
  try {
    let n = 0;
    const body = (count) => JSON.stringify({ events: Array.from({ length: count }, () => ({ id: `s${n++}`, name: 'bench', timestamp: 1_750_000_000_000, sourceId: 'one', properties: { path: '/products/42' } })) });
    const p50 = async (count, runs) => {
      const times = [];
      for (let i = 0; i < runs; i++) {
        const text = body(count);
        const t = performance.now();
        await send(collector.endpoint, text, `q${n}`);
        times.push(performance.now() - t);
      }
      return median(times);
    };
    await p50(1, 10); // warm-up
    return { oneEventP50Ms: await p50(1, 100), batchP50Ms: await p50(config.batchEvents, 100) };
  } finally {
    await collector.close();
    rmSync(data, { recursive: true, force: true });
  }
}

/** @param {CollectorBenchConfig} config @param {number} partitions @param {'one-source' | 'spread'} layout */
async function oneRun(config, partitions, layout) {
  const data = mkdtempSync(join(tmpdir(), 'outbox-bench-collector-'));
  const startedAt = performance.now();
  const collector = await startLocalCollector({ data, port: 0, partitions, feedToken, quiet: true });
  const startMs = performance.now() - startedAt;
  try {
    // Bodies built before the clock starts: the figure is the collector's, not the sender's.
    const bodies = [];
    for (let first = 0; first < config.events; first += config.batchEvents) {
      const events = [];
      for (let i = first; i < Math.min(first + config.batchEvents, config.events); i++) {
        events.push({ id: `e${i}-${partitions}`, name: 'bench', timestamp: 1_750_000_000_000 + i, sourceId: `source-${(layout === 'spread' ? i : first / config.batchEvents) % config.sources}`, properties: { i, path: '/products/42', plan: 'pro' } });
      }
      bodies.push(JSON.stringify({ sentAt: Date.now(), events }));
    }
    // One warm-up request (isolate start, objects created), not counted.
    await send(collector.endpoint, JSON.stringify({ events: [{ id: 'warm', name: 'w', timestamp: 1 }] }), 'warm');
    const latencies = [];
    let next = 0;
    const cpu0 = workerdCpuMs();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: config.concurrency }, async () => {
        while (next < bodies.length) {
          const index = next++;
          const s = performance.now();
          await send(collector.endpoint, bodies[index], `r${index}`);
          latencies.push(performance.now() - s);
        }
      }),
    );
    const ingestMs = performance.now() - t0;
    const cpu1 = workerdCpuMs();

    const t1 = performance.now();
    const read = await readFeed(collector.url, partitions, config.pageSize);
    const feedMs = performance.now() - t1;
    const cpu2 = workerdCpuMs();
    if (read !== config.events + 1) throw new Error(`feed returned ${read} events, expected ${config.events + 1}`);
    latencies.sort((a, b) => a - b);
    return {
      ingestEventsPerSec: config.events / (ingestMs / 1000),
      ingestRequestsPerSec: bodies.length / (ingestMs / 1000),
      p50Ms: latencies[Math.floor(latencies.length * 0.5)],
      p99Ms: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))],
      feedEventsPerSec: read / (feedMs / 1000),
      // CPU is what a loaded machine does not inflate: the figure to compare runs by.
      ingestCpuMsPer1000: cpu0 === undefined ? undefined : ((cpu1 - cpu0) / config.events) * 1000,
      feedCpuMsPer1000: cpu0 === undefined ? undefined : ((cpu2 - cpu1) / read) * 1000,
      startMs,
    };
  } finally {
    await collector.close();
    rmSync(data, { recursive: true, force: true });
  }
}

/**
 * CPU time (user + system, ms) of the workerd processes this process started (Miniflare's
 * child), from /proc; undefined where there is no /proc.
 */
function workerdCpuMs() {
  let total = 0;
  let found = false;
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name (which may hold spaces): state ppid ... utime(14) stime(15).
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    if (name !== 'workerd' || Number(fields[1]) !== process.pid) continue;
    found = true;
    total += ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks, USER_HZ = 100 on Linux
  }
  return found ? total : undefined;
}

/** @param {string} endpoint @param {string} body @param {string} rid */
async function send(endpoint, body, rid) {
  const response = await fetch(`${endpoint}?rid=${rid}`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
  const text = await response.text();
  if (!response.ok) throw new Error(`ingest answered ${response.status}: ${text}`);
}

/** Reads every partition from the start until the checkpoints stop advancing; the number of events. */
async function readFeed(url, partitions, pageSize) {
  let cursors = Array.from({ length: partitions }, () => '_first');
  let count = 0;
  for (;;) {
    const query = `n=${partitions}&pagesizehint=${pageSize}&` + cursors.map((c, i) => `cursor${i}=${c}`).join('&');
    const response = await fetch(`${url}/feed/v1?${query}`, { headers: { authorization: `Bearer ${feedToken}` } });
    if (!response.ok) throw new Error(`feed answered ${response.status}`);
    const next = cursors.slice();
    for (const line of (await response.text()).split('\n')) {
      if (!line) continue;
      const parsed = JSON.parse(line);
      if (parsed.cursor !== undefined) next[parsed.partition] = parsed.cursor;
      else count++;
    }
    if (next.every((c, i) => c === cursors[i])) return count;
    cursors = next;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes('--quick');
  const log = (message) => process.stderr.write(`[bench collector] ${message}\n`);
  const resultsPath = join(root, 'bench/results.json');
  const results = JSON.parse(readFileSync(resultsPath, 'utf8'));
  const info = machine(root);
  log(`load average at start: ${info.loadAverageAtStart.join(', ')}`);
  results.collector = { ...(await benchCollector(collectorBenchConfig(quick), log)), machine: info };
  results.collector.machine.loadAverageAtEnd = (await import('node:os')).loadavg().map((l) => Math.round(l * 100) / 100);
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  const { markdown } = await import('./report.mjs');
  writeFileSync(join(root, 'docs/benchmarks.md'), markdown(results));
  log('wrote bench/results.json and docs/benchmarks.md');
}
