// Turns bench/results.json into the targets table, the peer comparison and docs/benchmarks.md.
import { busy } from './machine.mjs';
import { fmt, ratio } from './stats.mjs';
import { collectorSection } from './collector-report.mjs';

const KiB = 1024;

/** The mission targets, each with the measurement that answers it. */
export function targets(r) {
  const c = r.chromium ?? {};
  const n = r.node ?? {};
  const deliverTarget = (label, value) => ({ label, target: 2000, unit: 'ms', measured: value });
  return [
    { label: 'Script tag dist/outbox.iife.js, min+gzip', target: 12 * KiB, unit: 'B', measured: r.size?.outbox?.iife?.gzip },
    { label: 'track() call only, Chromium, main-thread CPU (burst of 100k)', target: 1.5, unit: 'µs/event', measured: c.burst?.callCpuUs },
    { label: 'track() + deferred persistence (IndexedDB), Chromium, main-thread CPU', target: 1.5, unit: 'µs/event', measured: c.burst?.persistCpuUs },
    { label: 'track() + persistence + batching + acks, sustained 1k/task, Chromium CPU', target: 1.5, unit: 'µs/event', measured: c.sustained?.indexeddb?.cpuUsPerEvent },
    { label: 'track() call only, Node, storage: false (wall)', target: 1.5, unit: 'µs/event', measured: n.track?.callUs },
    { label: 'track() call only, Node, storage: false (process CPU)', target: 1.5, unit: 'µs/event', measured: n.track?.callCpuUs },
    deliverTarget('10,000 events delivered, Node, gzip', n.deliver?.gzip?.ms),
    deliverTarget('10,000 events delivered, Node, no compression', n.deliver?.none?.ms),
    deliverTarget('10,000 events delivered, Chromium, IndexedDB + gzip (defaults)', c.deliver?.['indexeddb/gzip']?.ms),
    deliverTarget('10,000 events delivered, Chromium, memory + gzip', c.deliver?.['memory/gzip']?.ms),
    { label: 'Wire bytes per small event, body, gzip (batches of 100)', target: 120, unit: 'B', measured: n.wire?.['identical/gzip']?.bodyBytesPerEvent },
    { label: 'Wire bytes per small event, body, no compression', target: 120, unit: 'B', measured: n.wire?.['identical/none']?.bodyBytesPerEvent },
    { label: 'Wire bytes per small event, TCP incl. HTTP headers, gzip', target: 120, unit: 'B', measured: n.wire?.['identical/gzip']?.tcpBytesPerEvent },
    { label: 'Heap per queued event / serialized bytes, Chromium, storage: false', target: 2, unit: '×', measured: c.memory?.memory?.heapPerSerialized },
    { label: 'Heap per queued event / serialized bytes, Chromium, IndexedDB', target: 2, unit: '×', measured: c.memory?.indexeddb?.heapPerSerialized },
  ].map((t) => ({ ...t, ratio: t.measured / t.target, met: t.measured === undefined ? undefined : t.measured <= t.target }));
}

function table(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const status = (t) => (t.met === undefined ? 'not measured' : t.met ? 'met' : `**over** (${fmt(t.ratio, 2)}×)`);

function targetTable(r) {
  return table(
    ['target', 'goal', 'measured', 'measured / goal', ''],
    targets(r).map((t) => [t.label, `≤ ${fmt(t.target)} ${t.unit}`, `${fmt(t.measured)} ${t.unit}`, t.measured === undefined ? '—' : `${fmt(t.ratio, 2)}×`, status(t)]),
  );
}

const kb = (bytes) => (bytes === undefined ? '—' : `${fmt(bytes / KiB)} KB`);

function sdkRows(r) {
  const ids = ['outbox', ...Object.keys(r.peers ?? {}).filter((id) => r.peers[id].installed)];
  const base = r.chromium?.compare?.outbox;
  const outboxSize = r.size?.outbox?.iife?.gzip;
  return ids.map((id) => {
    const size = id === 'outbox' ? { published: r.size?.outbox?.iife, esbuild: { gzip: r.size?.outbox?.breakdown?.esbuildGzip } } : (r.size?.[id] ?? {});
    const cmp = r.chromium?.compare?.[id];
    const scriptTag = size.published?.gzip ?? size.esbuild?.gzip;
    return {
      id,
      label: id === 'outbox' ? 'outbox' : `${r.peers[id].label} ${r.peers[id].version}`,
      scriptTag,
      esbuild: size.esbuild?.gzip,
      sizeRatio: outboxSize && scriptTag ? scriptTag / outboxSize : undefined,
      cmp,
      cpuRatio: base && cmp ? cmp.cpuUs / base.cpuUs : undefined,
      callRatio: base && cmp ? cmp.callCpuUs / base.callCpuUs : undefined,
    };
  });
}

function peerTable(r) {
  return table(
    ['SDK', 'script tag min+gzip', 'esbuild bundle min+gzip', 'size vs outbox', 'call, CPU µs', 'call, wall µs', 'CPU until delivered, µs/event', 'vs outbox', 'requests', 'body B/event'],
    sdkRows(r).map((s) => [
      s.label,
      kb(s.scriptTag),
      kb(s.esbuild),
      s.sizeRatio ? `${fmt(s.sizeRatio, 2)}×` : '—',
      fmt(s.cmp?.callCpuUs),
      fmt(s.cmp?.callUs),
      fmt(s.cmp?.cpuUs),
      s.cpuRatio ? `${fmt(s.cpuRatio, 2)}×` : '—',
      fmt(s.cmp?.requests),
      fmt(s.cmp?.bodyBytesPerEvent),
    ]),
  );
}

function detailTables(r) {
  const n = r.node ?? {};
  const c = r.chromium ?? {};
  const out = [];
  out.push('### track() and enqueue throughput');
  out.push(
    table(
      ['measure', 'µs/event', 'events/s', 'notes'],
      [
        ['Node, call only, storage: false (wall)', fmt(n.track?.callUs), fmt(n.track?.callEventsPerSec), `process CPU ${fmt(n.track?.callCpuUs)} µs/event (GC threads included)`],
        ['Node, sustained 1k/task, batching + acks (wall)', fmt(n.sustained?.usPerEvent), fmt(n.sustained?.eventsPerSec), `process CPU ${fmt(n.sustained?.cpuUsPerEvent)} µs/event`],
        ['Chromium, call only, burst of 100k (main-thread CPU)', fmt(c.burst?.callCpuUs), fmt(c.burst?.callCpuUs && 1e6 / c.burst.callCpuUs), `wall ${fmt(c.burst?.callUs)} µs/event`],
        ['Chromium, call + persisted to IndexedDB (main-thread CPU)', fmt(c.burst?.persistCpuUs), fmt(c.burst?.persistCpuUs && 1e6 / c.burst.persistCpuUs), `wall until committed ${fmt(c.burst?.persistUs)} µs/event${c.burst?.late ? ' (write came after a macrotask: upper bound)' : ''}`],
        ['Chromium, sustained 1k/task, IndexedDB + batching + acks (CPU)', fmt(c.sustained?.indexeddb?.cpuUsPerEvent), fmt(c.sustained?.indexeddb?.cpuEventsPerSec), `wall ${fmt(c.sustained?.indexeddb?.usPerEvent)} µs/event, ${fmt(c.sustained?.indexeddb?.eventsPerSec)} events/s`],
        ['Chromium, sustained 1k/task, storage: false (CPU)', fmt(c.sustained?.memory?.cpuUsPerEvent), fmt(c.sustained?.memory?.cpuEventsPerSec), `wall ${fmt(c.sustained?.memory?.usPerEvent)} µs/event, ${fmt(c.sustained?.memory?.eventsPerSec)} events/s`],
      ],
    ),
  );
  out.push('\n### Delivery of 10,000 events to the reference collector on 127.0.0.1');
  out.push('CPU: the tracker\'s process in Node (all threads), the page\'s main thread in Chromium; the collector runs in another process. '
    + 'Chromium runs start from a warmed-up tracker (100 events delivered first). "duplicates" is the collector\'s count after the page closed: '
    + 'events it received twice (outbox de-duplicates by id at the collector, so these cost bytes, not correctness).\n');
  const deliverRows = [
    ...['gzip', 'none'].map((k) => [`Node, memory, ${k}`, n.deliver?.[k]]),
    ...['indexeddb/gzip', 'indexeddb/none', 'memory/gzip', 'memory/none'].map((k) => [`Chromium, ${k.replace('/', ', ')}`, c.deliver?.[k]]),
  ];
  out.push(
    table(
      ['runtime, storage, compression', 'ms until all acknowledged', 'events/s', 'of which tracking, ms', 'CPU µs/event', 'requests', 'duplicates'],
      deliverRows.map(([label, d]) => [label, fmt(d?.ms), fmt(d?.eventsPerSec), fmt(d?.trackedMs), fmt(d?.cpuUsPerEvent), fmt(d?.requests), fmt(d?.duplicates)]),
    ),
  );
  out.push('\n### Wire bytes per event (Node, 1,000 small events, batches of 100)');
  out.push(
    table(
      ['events', 'compression', 'body B/event', 'TCP B/event (headers included)', 'JSON B/event (inflated)', 'requests'],
      Object.entries(n.wire ?? {}).map(([key, w]) => {
        const [kind, compression] = key.split('/');
        return [kind === 'varying' ? "`track('click', { id: i })`" : "`track('click', { id: 7 })`", compression, fmt(w?.bodyBytesPerEvent), fmt(w?.tcpBytesPerEvent), fmt(w?.inflatedBytesPerEvent), fmt(w?.requests)];
      }),
    ),
  );
  out.push(`\n### Memory per queued event (${fmt(r.config?.memoryEvents)} small events, collector unreachable)`);
  out.push('Node measures V8 on 64 bits without pointer compression, so every field of an entry costs 8 B (`heapUsed` after `gc()`, '
    + 'run with --expose-gc); Chromium\'s V8 compresses pointers, so a field costs 4 B (CDP `Runtime.getHeapUsage` after '
    + '`HeapProfiler.collectGarbage`). The same entries therefore cost less in Chromium. The IndexedDB row is read once the '
    + 'burst\'s write has committed: it adds what the storage path keeps per queued event.\n');
  const memoryRow = (label, m) => [label, fmt(m?.bytesPerEvent), fmt(m?.queuedBytesPerEvent), m ? ratio(m.bytesPerEvent, m.queuedBytesPerEvent) : '—'];
  out.push(
    table(
      ['runtime, storage', 'heap bytes/event', 'serialized bytes/event (queuedBytes)', 'heap / serialized'],
      [
        memoryRow('Node, storage: false', n.memory),
        memoryRow('Chromium, storage: false', c.memory?.memory),
        memoryRow('Chromium, IndexedDB', c.memory?.indexeddb),
      ],
    ),
  );
  return out.join('\n');
}

function sizeTables(r) {
  const b = r.size?.outbox?.breakdown;
  if (!b) return '';
  const out = [];
  out.push(`The IIFE entry (${b.entry}) rebuilt with esbuild: ${fmt(b.esbuildGzip)} B min+gzip (the project's terser build: ${fmt(r.size.outbox.iife.gzip)} B). `
    + 'A dependency\'s share is the bundle minus the bundle built without it. '
    + `\`createTracker\` alone bundles to ${fmt(b.createTrackerOnlyGzip)} B: tree-shaking removes little, because everything hangs off it.`);
  out.push('');
  out.push(table(['part', 'min+gzip bytes', 'share'], Object.entries(b.deps).map(([dep, bytes]) => [dep, fmt(bytes), `${fmt((100 * bytes) / b.esbuildGzip, 2)} %`])));
  out.push('');
  out.push(table(['largest modules', 'minified bytes'], b.modules.slice(0, 12).map((m) => [m.file, fmt(m.minBytes)])));
  return out.join('\n');
}

function blocksTable(r) {
  const b = r.chromium?.blocks;
  if (!b) return '';
  return [
    `One 100-event batch (${fmt(b.bodyBytes)} B of JSON), ${b.ops} operations each, main-thread CPU (ThreadTime) and wall time per operation:`,
    '',
    table(['operation', 'CPU ms/op', 'wall ms/op'], Object.entries(b.results).map(([name, v]) => [name, fmt(v.cpuMs), fmt(v.wallMs)])),
  ].join('\n');
}

function configNotes(r) {
  const cfg = r.config ?? {};
  const lines = [
    `- **Runs**: every figure is the median of ${cfg.nodeRuns} (Node) or ${cfg.browserRuns} (Chromium) runs (deliveries: ${cfg.deliverRuns}), each in a fresh process or browser context. The peer comparison stops repeating an SDK after ${fmt(cfg.comparePerSdkBudgetMs / 1000)} s.`,
    '- **Event**: `track(\'click\', { id: 7 })`, or each SDK\'s equivalent call with the same name and property.',
    '- **CPU vs wall**: Chromium CPU figures are the renderer main thread\'s ThreadTime (CDP `Performance.getMetrics`), which other processes on the machine do not inflate. "Call only" pauses the page in the debugger right after the loop, before any microtask or deferred work runs; the cost of one evaluate and pause is subtracted. Wall figures come from `performance.now()` in a cross-origin-isolated page (5 µs resolution).',
    `- **Burst**: ${fmt(cfg.trackEvents)} calls in one task after ${fmt(cfg.trackWarmup)} warm-up calls, default browser storage (IndexedDB), queue caps raised so the burst is not evicted, a transport that never answers (no delivery). "Persisted" ends when a read-only IndexedDB transaction opened after the burst completes: IndexedDB runs it only after every read-write transaction created before it has committed. The events stored are counted afterwards.`,
    `- **Sustained**: ${fmt(cfg.trackEvents)} events in bursts of ${fmt(cfg.sustainedBurst)} per task (MessageChannel in Chromium, setImmediate in Node), default options, a transport that acknowledges at once: persistence, batching and acknowledgement bookkeeping run, HTTP does not. Ends when \`flush()\` resolves.`,
    `- **Memory per queued event**: ${fmt(cfg.memoryEvents)} \`track('click', { id: 7 })\` after 300 warm-up events and 0.3 s, collector unreachable (\`http://127.0.0.1:9\`), flush interval and retry backoff of an hour; the heap delta divided by ${fmt(cfg.memoryEvents)}. Node: its own process, \`storage: false\`. Chromium: a fresh context per sample, \`storage: false\` or IndexedDB. Both raise the queue caps so nothing is evicted (the run fails unless all of them stay queued); "after" waits for the IndexedDB write to commit, then 0.5 s. With IndexedDB, about one sample in ten reads some 25 B/event higher (a one-off of about 250 KB during the burst, never seen with \`storage: false\`): the median of 3 absorbs it, a single \`--quick\` sample may not.`,
    `- **Delivery**: ${fmt(cfg.deliverEvents)} events tracked, then \`flush()\`, default options, to the reference collector (demo/collector) on 127.0.0.1, cross-origin from the page; timed from the first \`track()\`; the collector's count of unique events is checked.`,
    `- **Peer comparison**: every SDK (outbox included, default options and IndexedDB) is loaded as a script tag in a fresh context, initialised against a local sink (bench/sink.mjs: 200 to everything, CORS, counts events by their name in the decoded body), warmed up with ${fmt(cfg.compareWarmup)} events that must arrive, then ${fmt(cfg.compareEvents)} calls in one loop. "CPU until delivered" is the main thread's CPU from the loop until the sink has every event plus 0.5 s.`,
    '- **Sizes**: min+gzip at level 9. "Script tag" is the SDK\'s own published minified bundle where the package ships one (named below), else the esbuild bundle. "esbuild bundle" is the entry that the page loads (the API it uses) bundled and minified with esbuild (`--bundle --minify`, IIFE, es2020), lazily imported chunks included.',
  ];
  for (const [id, p] of Object.entries(r.peers ?? {})) {
    const size = r.size?.[id];
    lines.push(`- **${p.label}** (${p.pkg}@${p.version})${p.installed ? '' : ' — not installed, not measured'}: \`${p.call}\`. ${p.config}.${size?.published ? ` Script tag: ${size.published.file}.` : ''}`);
  }
  return lines.join('\n');
}

/** docs/benchmarks.md */
export function markdown(r) {
  const m = r.machine;
  const loaded = busy(m);
  return `# Benchmarks

Generated by \`npm run bench\` (bench/run.mjs) on ${m.date.slice(0, 10)}; rerun it rather than edit this file. The
raw figures are in [bench/results.json](../bench/results.json). Performance is measured here, not asserted in timed tests.

## Machine

| | |
| --- | --- |
| Node | ${m.node} |
| Chromium | ${m.chromium ?? 'not launched'} (Debian, headless, driven by playwright-core) |
| Firefox | ${r.engines?.firefox?.version?.replace(/^Firefox /, '') ?? 'not launched'} (Debian firefox-esr, headless, puppeteer-core over WebDriver BiDi) |
| WebKit | ${r.engines?.webkit?.version ?? 'not launched'} (Debian WebKitGTK MiniBrowser under Xvfb, W3C WebDriver) |
| CPU | ${m.cpu}, ${m.nproc} cores (\`nproc\`), ${m.memoryGiB} GiB |
| OS | ${m.os} |
| outbox | commit ${m.commit} |
| load average (1, 5, 15 min) | start ${m.loadAverageAtStart.join(', ')}; end ${m.loadAverageAtEnd?.join(', ') ?? '—'} |
| duration | ${m.durationSec} s |
${loaded ? '\n> **The machine was busy** (load average above half the cores): wall-clock figures are inflated; the CPU figures (ThreadTime) are not.\n' : ''}
## How to run

\`\`\`sh
npm run bench                       # build, then node bench/run.mjs (about 5 minutes)
node bench/run.mjs --quick          # one run per figure
node bench/run.mjs --no-peers       # outbox only
node bench/run.mjs --peers=posthog  # some peers only
node bench/run.mjs --baseline=<ref> # also build <ref> and compare per-event figures, before/after
node bench/collector.mjs            # only the durable collector's figures (merged into the last run's)
\`\`\`

Peers are installed on first use into \`.tmp/peers/\` (git-ignored) with \`npm install --prefix … --no-save\`; they never
become dependencies of the project. Chromium is Debian's \`/usr/bin/chromium\` (\`CHROMIUM_PATH\` overrides it).

## Targets

${targetTable(r)}

${r.baseline ? `## Before and after (\`--baseline=${r.baseline.ref}\`)

${baselineTable(r)}

` : ''}## Against the peers (Chromium ${m.chromium ?? ''})

${peerTable(r)}

"size vs outbox" and "vs outbox" are the peer's figure divided by outbox's (above 1: outbox is smaller or cheaper).
"CPU until delivered" includes everything each SDK does for its events on the page's main thread: the call, what it
defers (persistence, batching, serialization, compression) and sending. Peers run with their defaults except where
noted under Method.

## outbox in detail

${detailTables(r)}

## The durable collector (local: workerd through Miniflare)

${collectorSection(r)}

## outbox in three engines

${enginesTable(r)}

## Where the bytes go

${sizeTables(r)}

## Where the time goes: one delivery's building blocks (Chromium)

${blocksTable(r)}

## Method

${configNotes(r)}

## Not measured

- Safari itself (WebKitGTK stands in: the same engine family, not Apple's build), mobile CPUs, and real networks (everything is on 127.0.0.1).
- The peers in Firefox and WebKit: the peer SDKs are installed on demand from npm into \`.tmp/peers/\`, and no such cache was
  present for this run; their comparison above is Chromium's, through CDP.${r.engines?.errors?.length ? `\n- Engine runs that failed: ${r.engines.errors.join('; ')}.` : ''}
- Snowplow's \`sp.js\` script-tag package (\`@snowplow/javascript-tracker\`) is not in the registry here; its browser-tracker's own UMD bundle stands in.
- The unload path (beacon, fetchLater): its cost is bounded by the keepalive quota, not by throughput.
${r.errors?.length ? `\n## Errors in this run\n\n${r.errors.map((e) => `- ${e}`).join('\n')}\n` : ''}`;
}

/** The per-event figures of the `--baseline` build against this one (same run, alternating samples). */
function baselineTable(r) {
  const { before: b, after: a } = r.baseline;
  const row = (label, unit, pick, digits = 2) => {
    const x = pick(b);
    const y = pick(a);
    return [label, `${fmt(x, digits)} ${unit}`, `${fmt(y, digits)} ${unit}`, x && y ? `${fmt(y / x, 2)}×` : '—'];
  };
  const heapRatio = (s) => s.memory?.bytesPerEvent / s.memory?.queuedBytesPerEvent;
  return `${table(['figure', `before (${r.baseline.commit})`, `after (${r.machine.commit})`, 'after / before'], [
    row('Script tag, min+gzip -9', 'B', (s) => s.size?.gzip, 0),
    row('track() call only, Chromium main-thread CPU', 'µs/event', (s) => s.burst?.callCpuUs),
    row('track() + deferred persistence (IndexedDB), Chromium CPU', 'µs/event', (s) => s.burst?.persistCpuUs),
    row('track() + persistence + batching + acks, sustained, Chromium CPU', 'µs/event', (s) => s.sustained?.cpuUsPerEvent),
    row('track() call only, Node, storage: false (wall)', 'µs/event', (s) => s.track?.callUs),
    row('Heap per queued event, Node', 'B', (s) => s.memory?.bytesPerEvent, 0),
    row('Heap per queued event / its serialized bytes', '×', heapRatio),
    row('Heap per queued event, Chromium, storage: false', 'B', (s) => s.chromiumMemory?.memory?.bytesPerEvent, 0),
    row('Heap per queued event / its serialized bytes, Chromium, storage: false', '×', (s) => s.chromiumMemory?.memory?.heapPerSerialized),
    row('Heap per queued event, Chromium, IndexedDB', 'B', (s) => s.chromiumMemory?.indexeddb?.bytesPerEvent, 0),
    row('Heap per queued event / its serialized bytes, Chromium, IndexedDB', '×', (s) => s.chromiumMemory?.indexeddb?.heapPerSerialized),
  ])}

Medians of ${r.baseline.runs} samples per side, taken alternately (before, after, before...) in one run, so load on the machine weighs on both.`;
}

function enginesTable(r) {
  const e = r.engines;
  if (!e) return 'Not measured in this run (`node bench/engines.mjs`).';
  const names = ['chromium', 'firefox', 'webkit'].filter((name) => e[name]);
  const rows = names.map((name) => {
    const x = e[name];
    return [x.version, fmt(x.track?.callUs, 2), fmt(x.deliver?.deliveredMs, 0), fmt(x.deliver?.cpuUsPerEvent, 1), fmt(x.deliver?.requests, 0), fmt(x.deliver?.preflights, 0), fmt(x.deliver?.bytesPerEvent, 1)];
  });
  return `${table(['engine', 'track() call, µs', `deliver ${fmt(e.deliverEvents)} events, ms`, 'CPU per delivered event, µs (all engine processes)', 'requests', 'preflights', 'wire bytes per event'], rows)}

The script tag is the same file in every engine: ${fmt(e.scriptTagBytes?.gzip)} bytes min + gzip -9 (${fmt(e.scriptTagBytes?.raw)} raw).
Medians of ${e.runs} runs${e.loadAverage ? `, load average ${e.loadAverage.join(', ')} at the start (2 cores: wall times are inflated when it is above 1; the CPU figures much less)` : ''}. Every engine is driven by the browser tests' harness (test/browser/engine.ts) and measured
the same way, Chromium included, so this table compares engines with each other (Chromium's CDP figures above are
measured differently: main-thread ThreadTime). "track() call": ${fmt(e.trackEvents)} calls in one loop after a
warm-up, default storage (IndexedDB), a transport that never answers; \`performance.now()\` in the page (cross-origin
isolated). "deliver": ${fmt(e.deliverEvents)} track() calls in one task with default options to the reference collector,
until it acknowledged all of them. "CPU per delivered event": user + system CPU of every process of the engine (browser,
content/renderer, network, GPU; from /proc; Xvfb excluded) over that delivery, minus the same processes' idle CPU
rate measured for 1 s before, divided by the events: it includes what the page does and what the browser does to send.`;
}

/** The console summary. */
export function summary(r) {
  const lines = ['', 'Targets'];
  for (const t of targets(r)) {
    lines.push(`  ${t.label.padEnd(76)} ${`${fmt(t.measured)} ${t.unit}`.padStart(16)}  goal ≤ ${fmt(t.target)} ${t.unit}  ${t.measured === undefined ? '' : `${fmt(t.ratio, 2)}× ${t.met ? 'met' : 'OVER'}`}`);
  }
  lines.push('', `Against the peers (Chromium, ${fmt(r.config?.compareEvents)} events; µs per event)`);
  lines.push(`  ${'SDK'.padEnd(40)} ${'script tag'.padStart(10)} ${'call CPU'.padStart(10)} ${'call wall'.padStart(10)} ${'CPU→deliv.'.padStart(11)} ${'vs outbox'.padStart(10)} ${'B/event'.padStart(8)}`);
  for (const s of sdkRows(r)) {
    lines.push(
      `  ${s.label.padEnd(40)} ${kb(s.scriptTag).padStart(10)} ${fmt(s.cmp?.callCpuUs).padStart(10)} ${fmt(s.cmp?.callUs).padStart(10)} ${fmt(s.cmp?.cpuUs).padStart(11)} ${(s.cpuRatio ? `${fmt(s.cpuRatio, 2)}×` : '—').padStart(10)} ${fmt(s.cmp?.bodyBytesPerEvent).padStart(8)}`,
    );
  }
  if (r.errors?.length) lines.push('', 'Errors', ...r.errors.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}
