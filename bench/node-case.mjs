// One Node measurement in a fresh process (so runs do not share a JIT state or a heap):
//   node [--expose-gc] bench/node-case.mjs '<json {case, ...}>'
// prints one JSON line with the result. The collector runs in the parent process, as a real
// collector would run elsewhere. Uses only the public API of the built package (dist/index.js,
// or the snapshot of it that `params.dist` names).
const params = JSON.parse(process.argv[2] ?? '{}');
// The runner passes its snapshot of dist/, so a rebuild elsewhere mid-run cannot change the code.
const { createTracker } = await import(params.dist ?? '../dist/index.js');
const event = ['click', { id: 7 }];

// A transport that never answers: the tracker's own work, without delivery.
const silentTransport = { send: () => new Promise(() => {}) };
// A transport that acknowledges at once: batching and acknowledgement bookkeeping run, no HTTP.
const ackTransport = { send: async () => ({ kind: 'ok', status: 200 }) };

const turn = () => new Promise((resolve) => setImmediate(resolve));

const cases = {
  // track() call only, memory storage, N calls in one loop after a warm-up.
  async track({ n = 100_000, warm = 20_000 }) {
    const tracker = createTracker({
      endpoint: 'http://127.0.0.1:9/unused',
      storage: false,
      transport: silentTransport,
      // Raised so that N events in one burst are not evicted (eviction is the overflow path).
      maxQueueEvents: 10 * (n + warm),
      maxQueueBytes: 1024 ** 3,
    });
    for (let i = 0; i < warm; i++) tracker.track(...event);
    await turn();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) tracker.track(...event);
    const callMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await turn();
    const stats = tracker.stats();
    return {
      n,
      callUs: (callMs * 1000) / n,
      // Process CPU (all threads, GC helpers included): robust when other processes share the cores.
      callCpuUs: (cpu.user + cpu.system) / n,
      callEventsPerSec: n / (callMs / 1000),
      queued: stats.queued,
      dropped: sum(stats.dropped),
    };
  },

  // Sustained enqueue: bursts of `burst` events per macrotask, batching and acknowledgement
  // running (a transport that acks at once), until flush() resolves. Default options.
  async sustained({ n = 100_000, burst = 1000 }) {
    const tracker = createTracker({ endpoint: 'http://127.0.0.1:9/unused', storage: false, transport: ackTransport });
    for (let i = 0; i < 10_000; i++) tracker.track(...event);
    await tracker.flush(30_000);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let sent = 0; sent < n; sent += burst) {
      for (let i = 0; i < burst; i++) tracker.track(...event);
      await turn();
    }
    const ok = await tracker.flush(60_000);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const stats = tracker.stats();
    if (!ok) throw new Error('flush timed out');
    const cpuUs = cpu.user + cpu.system;
    return { n, burst, usPerEvent: (ms * 1000) / n, eventsPerSec: n / (ms / 1000), cpuUsPerEvent: cpuUs / n, dropped: sum(stats.dropped) };
  },

  // Delivery: N events tracked, then flush() to the collector; time from the first track().
  // `vary`: each event's property differs (`{ id: i }`), which gzip cannot fold away as well.
  async deliver({ endpoint, n = 10_000, compression = 'gzip', vary = false }) {
    const tracker = createTracker({ endpoint, storage: false, compression });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) tracker.track(event[0], vary ? { id: i } : event[1]);
    const trackedMs = performance.now() - t0;
    const ok = await tracker.flush(60_000);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const stats = tracker.stats();
    await tracker.close(1000);
    return { n, ok, ms, trackedMs, cpuMs: (cpu.user + cpu.system) / 1000, eventsPerSec: n / (ms / 1000), requests: stats.requests, sent: stats.sent, bytesSent: stats.bytesSent, dropped: sum(stats.dropped) };
  },

  // Memory per queued event: heap delta for N small events, collector unreachable.
  async memory({ n = 10_000 }) {
    if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
    const errors = [];
    const tracker = createTracker({
      endpoint: 'http://127.0.0.1:9/unreachable',
      storage: false,
      flushIntervalMs: 3_600_000,
      retry: { baseMs: 3_600_000 },
      // Raised so that the warm-up and the N events all stay queued: with the default cap the
      // 300 oldest were evicted and the delta held 9,700 more entries, not N (3% low).
      maxQueueEvents: 10 * (n + 300),
      maxQueueBytes: 1024 ** 3,
      onError: (e) => errors.push(e.code),
    });
    // Warm the code paths (and let the first failed requests settle) so that the delta is the queue.
    for (let i = 0; i < 300; i++) tracker.track(...event);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const base = heap();
    for (let i = 0; i < n; i++) tracker.track(...event);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = heap();
    const stats = tracker.stats();
    if (stats.queued !== n + 300) throw new Error(`memory case: ${stats.queued} queued, expected ${n + 300}`);
    return {
      n,
      bytesPerEvent: (after - base) / n,
      queued: stats.queued,
      queuedBytesPerEvent: stats.queuedBytes / stats.queued,
      retryReports: errors.filter((c) => c === 'retry').length,
    };
  },
};

function heap() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

function sum(record) {
  return Object.values(record).reduce((a, b) => a + b, 0);
}

const fn = cases[params.case];
if (!fn) {
  console.error(`unknown case ${params.case}`);
  process.exit(2);
}
fn(params).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error) => {
    console.error(error?.stack ?? String(error));
    process.exit(1);
  },
);
