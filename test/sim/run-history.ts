// Runs one history against real trackers on the simulated clock, network and storage, then
// checks the invariant and returns every violation found (an empty list: the history holds).
//
// The invariant (docs/durability.md): every tracked event is acknowledged by the collector
// (stored there), or dropped for a counted reason reported through onError, or still held for
// sending. Around it: counters balance at rest, nothing rejects unhandled, timers do not spin,
// caps hold, a healthy network at the end lets flush() resolve true.
import { gzipSync } from 'node:zlib';
import { createTracker, type OutboxError, type Tracker, type TrackerOptions } from '../../src/index.js';
import { tabCoordination } from '../../src/platform/tab-leader.js';
import { createTrackerOn } from '../../src/tracker.js';
import { createSimTabs } from './sim-tabs.js';
import { maxReplyBytes, maxRules } from '../../src/wire.js';
import { protocolViolations } from './check-protocol.js';
import { createSimClock, prng, type SimClock } from './sim-clock.js';
import { createSimNetwork, ruledName, type SimNetwork } from './sim-network.js';
import { chunkIds, createSimStorage, type SimStorage } from './sim-storage.js';
import { expectation, materializeName, materializeProps, type Corruption, type EventSpec, type History, type Step } from './histories.js';

const dropReasons = new Set(['overflow', 'invalid', 'too_large', 'rejected', 'ruled', 'expired', 'corrupt']);
const start = Date.UTC(2026, 10, 27, 12);
/** How long the end of a history may take, in simulated time: two of the longest request timeouts (2^31-1 ms). */
const settleLimitMs = 50 * 86_400_000;
/**
 * Timer wake-ups per simulated second and tab a tracker may need: a 100 ms flush interval, and a
 * backoff from 10 ms while the collector fails, stay far below; a timer re-armed at 1 ms does not.
 */
const wakeupsPerSecond = 50;
/**
 * Timer wake-ups the end of a history may take (its flushes, backoffs, leases), plus 2 per
 * simulated second and tab (a flush timer at its interval while a request hangs): a loop takes more.
 */
const finalWakeupBudget = 5000;

interface Tab {
  name: string;
  tracker: Tracker | undefined;
  kill: () => void;
  dead: boolean;
  closing: boolean;
  closedAt?: number;
  closeResult?: boolean;
  reports: OutboxError[];
  depth: number;
  maxDepth: number;
  /** Tracks the host's onError made in the current step (bounded by the simulation, see onError). */
  reentered: number;
  loadsOthers: boolean;
}

interface Tracked {
  id: string;
  tab: Tab;
  step: number;
  expect: 'valid' | 'invalid' | 'too_large' | 'any';
  refused?: string;
  /** Set at a crash of its tab: whether it was in storage then (a successor must account for it). */
  durableAtCrash?: boolean;
}

/** What a run found. */
export interface HistoryResult {
  violations: string[];
  stats: { requests: number; wakeups: number; simulatedMs: number; tracked: number };
}

/** Runs a history and checks it. Never throws for a tracker failure: that is a violation. */
export async function runHistory(history: History): Promise<HistoryResult> {
  const { config } = history;
  const clock = createSimClock(start, config.seed, 300);
  const violations: string[] = [];
  // At most 20 per history: the first ones name the hole, the rest are its echoes.
  const violate = (message: string) => {
    if (violations.length < 20 && !violations.includes(message)) violations.push(message);
  };
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  // Our own listener only: the history reports unhandled rejections as a violation (with its seed)
  // instead of vitest failing the whole file without one.
  const saved = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', onUnhandled);
  const restore = clock.install();
  // Tab coordination as in a browser: Web Locks elect one sender, watch() nudges it, acks go back.
  const coordinate = config.storage && config.coordinate === true;
  const simTabs = coordinate ? createSimTabs(clock) : undefined;
  const restoreTabs = simTabs?.install();
  const network = createSimNetwork(clock, history.script, config.latencyMs);
  const storage = createSimStorage(clock, config.seed, { failRate: config.failRate, loseRate: config.loseRate, latencyMs: config.storageLatencyMs }, config.storageApply !== false);
  const globalNet = network.handle('global');
  const savedFetch = globalThis.fetch;
  globalThis.fetch = globalNet.fetch;
  // Node's CompressionStream finishes on zlib's thread pool, outside the simulated clock: a
  // history would wait on it in real time and stop replaying exactly. The same bytes, in-thread.
  const savedCompression = globalThis.CompressionStream;
  globalThis.CompressionStream = InThreadGzipStream as unknown as typeof CompressionStream;
  const tabs: Tab[] = [];
  const tracked: Tracked[] = [];
  const pending: { what: string; tab: Tab; promise: Promise<unknown>; settled: boolean }[] = [];
  let uniq = 0;
  const usedIds: string[] = [];
  let tabsEver = 0;
  let tabsBeforeFinish = 0;
  const corruptedIds = new Set<string>();
  let corruptedAt = -1;
  try {
    for (let i = 0; i < (config.storage ? config.tabs : 1); i++) openTab();
    for (const [index, step] of history.steps.entries()) {
      for (const tab of tabs) tab.reentered = 0;
      await runStep(step, index);
      checkLive(index);
      if (clock.spinning) break;
    }
    if (!clock.spinning) await finish();
  } catch (error) {
    violate(`the history itself failed: ${describe(error)}`);
  } finally {
    restore();
    restoreTabs?.();
    globalThis.fetch = savedFetch;
    globalThis.CompressionStream = savedCompression;
    process.removeListener('unhandledRejection', onUnhandled);
    for (const listener of saved) process.on('unhandledRejection', listener);
  }
  if (clock.spinning) violate(`timers spin: ${clock.spinning}`);
  for (const reason of unhandled) violate(`unhandled rejection: ${describe(reason)}`);
  return {
    violations,
    stats: { requests: network.requests, wakeups: clock.wakeups, simulatedMs: clock.monotonic(), tracked: tracked.length },
  };

  function openTab(): Tab | undefined {
    const name = `tab${tabsEver++}`;
    const store = config.storage ? storage.handle(name, simTabs) : undefined;
    const net = network.handle(name);
    const tab: Tab = {
      name,
      tracker: undefined,
      kill: () => {
        store?.kill();
        net.kill();
        simTabs?.kill(name);
      },
      dead: false,
      closing: false,
      reports: [],
      depth: 0,
      maxDepth: 0,
      reentered: 0,
      loadsOthers: config.storage && tabsEver > 1,
    };
    const options: TrackerOptions = {
      endpoint: 'http://collector.test/v1/batch',
      storage: store ? store.adapter : false,
      maxBatchEvents: config.maxBatchEvents,
      maxQueueEvents: config.maxQueueEvents,
      minBatchEvents: config.minBatchEvents,
      flushIntervalMs: config.flushIntervalMs,
      timeoutMs: config.timeoutMs,
      retry: config.retry,
      concurrency: config.concurrency,
      compression: config.compression,
      now: clock.wall,
      random: prng(config.seed + tabsEver),
      fetch: net.fetch,
      // The seam harden added; the globals are the simulated ones too (AbortSignal.timeout, flush waits).
      timers: { setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as number) },
      onError: (error) => onError(tab, error),
    };
    try {
      tab.tracker = coordinate ? createTrackerOn({ integrations: [tabCoordination] }, options) : createTracker(options);
    } catch (error) {
      // A clear error at setup is an allowed answer to options out of range; anything else is not.
      if (!(error instanceof RangeError || error instanceof TypeError) || !String((error as Error).message).startsWith('[outbox]')) {
        violate(`createTracker threw something other than a clear [outbox] RangeError/TypeError: ${describe(error)}`);
      }
      return undefined;
    }
    tabs.push(tab);
    return tab;
  }

  function onError(tab: Tab, error: OutboxError): void {
    if (tab.dead) return;
    tab.reports.push(error);
    if (config.reentrant && error.code === 'overflow' && tab.tracker) {
      tab.depth++;
      tab.maxDepth = Math.max(tab.maxDepth, tab.depth);
      try {
        // The host's onError tracks again while the queue is full (the re-entrancy hole); the
        // simulation stops following at depth 60, or 1100 calls in a step (past the tracker's own
        // bound of 1000 reports per call), so that a hole shows as a violation, not a crash.
        if (tab.depth < 60 && tab.reentered++ < 1100) trackOne(tab, { name: 'view', props: 'flat', id: 'unique', source: 'one', stream: 'none', ts: 'now', pick: 0 }, -1, 'any');
      } finally {
        tab.depth--;
      }
    }
  }

  function liveTabs(): Tab[] {
    return tabs.filter((tab) => !tab.dead && tab.tracker);
  }

  function pickTab(index: number): Tab | undefined {
    const live = liveTabs();
    return live.length ? live[index % live.length] : undefined;
  }

  function idFor(spec: EventSpec): unknown {
    switch (spec.id) {
      case 'unique': {
        const id = `e${uniq++}`;
        usedIds.push(id);
        return id;
      }
      case 'dup':
        return usedIds.length ? usedIds[spec.pick % usedIds.length] : `e${uniq++}`;
      case 'none':
        return undefined;
      case 'empty':
        return '';
      case 'long':
        return `L${uniq++}`.padEnd(300, 'x');
      case 'number':
        return 7;
    }
  }

  function optionsFor(spec: EventSpec, id: unknown): Record<string, unknown> {
    const options: Record<string, unknown> = {};
    if (id !== undefined) options.id = id;
    if (spec.source === 'one') options.sourceId = 'user-1';
    else if (spec.source === 'many') options.sourceId = `src-${spec.pick}`;
    else if (spec.source === 'long') options.sourceId = 's'.repeat(300);
    else if (spec.source === 'number') options.sourceId = 12;
    if (spec.stream === 'ui') options.stream = 'ui';
    else if (spec.stream === 'long') options.stream = 'z'.repeat(200);
    else if (spec.stream === 'number') options.stream = 5;
    if (spec.ts === 'past') options.timestamp = clock.wall() - 86_400_000;
    else if (spec.ts === 'nan') options.timestamp = NaN;
    else if (spec.ts === 'huge') options.timestamp = 1e20;
    else if (spec.ts === 'string') options.timestamp = '2026';
    return options;
  }

  function trackOne(tab: Tab, spec: EventSpec, stepIndex: number, expect?: Tracked['expect']): void {
    const id = idFor(spec);
    const before = tab.reports.length;
    const closed = tab.closing || tab.closedAt !== undefined; // refusing events once close() was called is allowed
    try {
      tab.tracker!.track(materializeName(spec.name) as string, materializeProps(spec.props, spec.pick) as Record<string, unknown>, optionsFor(spec, id));
    } catch (error) {
      violate(`track() threw into the page: ${describe(error)} (step ${stepIndex}, ${JSON.stringify(spec)})`);
      return;
    }
    const during = tab.reports.slice(before).filter((report) => report.code !== 'overflow' && report.code !== 'retry' && report.code !== 'storage');
    // Its own refusal lists it by id; without an id of ours, any refusal made during the call is it.
    const refusal = during.find((report) => dropReasons.has(report.code) && (typeof id === 'string' ? report.events.some((e) => e.id === id) || !report.events.length : true));
    const expected = expect ?? expectation(spec);
    if (expected === 'valid' && refusal && !closed && !(refusal.code === 'ruled' && spec.name === 'ruled')) {
      violate(`track() refused a valid event as ${refusal.code}: ${refusal.message} (step ${stepIndex}, ${JSON.stringify(spec)})`);
    }
    if ((expected === 'invalid' || expected === 'too_large') && !refusal) {
      violate(`track() accepted an event wire format v1 refuses (${JSON.stringify(spec)}, step ${stepIndex}): it would fail its whole batch later`);
    }
    if (typeof id === 'string' && id && id.length <= 256 && (expected === 'valid' || expected === 'any') && !refusal) {
      tracked.push({ id, tab, step: stepIndex, expect: expected });
    }
  }

  async function runStep(step: Step, index: number): Promise<void> {
    switch (step.t) {
      case 'track': {
        const tab = pickTab(step.tab);
        if (tab) trackOne(tab, step.event, index);
        return;
      }
      case 'burst': {
        const tab = pickTab(step.tab);
        if (!tab) return;
        for (let i = 0; i < step.count; i++) {
          trackOne(tab, { name: i % 7 === 3 ? 'ruled' : 'view', props: 'flat', id: 'unique', source: step.sources === 1 ? 'one' : 'many', stream: 'none', ts: 'now', pick: i % step.sources }, index);
        }
        return;
      }
      case 'send': {
        const tab = pickTab(step.tab);
        if (!tab) return;
        const expected: Tracked[] = [];
        const inputs = step.events.map((spec) => {
          const id = idFor(spec);
          if (typeof id === 'string' && id && expectation(spec) === 'valid' && !tab.closing) expected.push({ id, tab, step: index, expect: 'any' });
          return { ...optionsFor(spec, id), name: materializeName(spec.name), properties: materializeProps(spec.props, spec.pick) };
        });
        const before = tab.reports.length;
        watch(`send() of step ${index}`, tab, () => tab.tracker!.send(inputs as never, 30_000), (result) => {
          const r = result as { sent: number; dropped: number; pending: number };
          if (![r.sent, r.dropped, r.pending].every((n) => Number.isInteger(n) && n >= 0) || r.sent + r.dropped + r.pending !== inputs.length) {
            violate(`send() of step ${index} resolved ${JSON.stringify(r)} for ${inputs.length} events`);
          }
        });
        // send() refuses synchronously, like track(): a refusal that names no event cannot be
        // attributed, and then this call's ids are checked by the counters only.
        const refusals = tab.reports.slice(before).filter((r) => dropReasons.has(r.code) && r.code !== 'overflow');
        const unnamed = refusals.some((r) => !r.events.length);
        if (!unnamed) tracked.push(...expected.filter((e) => !refusals.some((r) => r.events.some((ev) => ev.id === e.id))));
        return;
      }
      case 'flush': {
        const tab = pickTab(step.tab);
        if (tab) watch(`flush(${step.timeoutMs}) of step ${index}`, tab, () => tab.tracker!.flush(step.timeoutMs), (result) => {
          if (typeof result !== 'boolean') violate(`flush() of step ${index} resolved ${String(result)}`);
        });
        return;
      }
      case 'close': {
        const tab = pickTab(step.tab);
        if (!tab || tab.closing) return;
        tab.closing = true;
        watch(`close() of step ${index}`, tab, () => tab.tracker!.close(30_000), (result) => {
          tab.closedAt = clock.monotonic();
          tab.closeResult = result as boolean;
        });
        return;
      }
      case 'advance':
        return clock.advance(step.ms, wakeupsPerSecond * Math.max(1, liveTabs().length));
      case 'jump':
        clock.jump(step.ms);
        network.noteJump();
        return;
      case 'crash': {
        const tab = pickTab(step.tab);
        if (!tab) return;
        crash(tab);
        if (step.reload || !liveTabs().length) openTab();
        return;
      }
      case 'open':
        if (config.storage) openTab();
        return;
      case 'corrupt':
        if (config.storage) corrupt(step.what, step.pick);
        return;
      case 'faults':
        storage.faults = { ...storage.faults, failRate: step.failRate, loseRate: step.loseRate };
        return;
    }
  }

  function watch(what: string, tab: Tab, run: () => Promise<unknown>, check: (result: unknown) => void): void {
    let promise: Promise<unknown>;
    try {
      promise = run();
    } catch (error) {
      violate(`${what} threw synchronously: ${describe(error)}`);
      return;
    }
    const entry = { what, tab, promise, settled: false };
    pending.push(entry);
    promise.then(
      (result) => {
        entry.settled = true;
        if (!tab.dead) check(result);
      },
      (error: unknown) => {
        entry.settled = true;
        violate(`${what} rejected: ${describe(error)}`);
      },
    );
  }

  function crash(tab: Tab): void {
    const durable = config.storage ? storage.storedIds() : new Set<string>();
    // A record the history corrupted was in storage too: the next page must account for it.
    for (const event of tracked) if (event.tab === tab && event.durableAtCrash === undefined) event.durableAtCrash = durable.has(event.id) || corruptedIds.has(event.id);
    tab.dead = true;
    tab.kill();
    // A crashed tab's promises never settle, and nobody waits for them.
    for (const entry of pending) if (entry.tab === tab) entry.settled = true;
  }

  function corrupt(what: Corruption, pick: number): void {
    const chunks = [...storage.map.keys()].filter((key) => key.startsWith('c:')).sort();
    const chunk = chunks.length ? chunks[pick % chunks.length]! : undefined;
    const time = clock.wall();
    const mark = (key: string) => {
      for (const id of chunkIds(storage.map.get(key)!)) corruptedIds.add(id);
      corruptedAt = Math.max(corruptedAt, tabs.reduce((n, tab) => n + tab.reports.length, 0));
    };
    switch (what) {
      case 'chunkGarbage':
        if (chunk) (mark(chunk), storage.map.set(chunk, '{"torn'));
        return;
      case 'chunkNotArray':
        if (chunk) (mark(chunk), storage.map.set(chunk, '{"id":"x"}'));
        return;
      case 'recordMissingTimestamp':
      case 'recordBadProperties': {
        if (!chunk) return;
        // A chunk the history already tore (chunkGarbage) has no record left to damage.
        let records: Record<string, unknown>[];
        try {
          records = JSON.parse(storage.map.get(chunk)!) as Record<string, unknown>[];
        } catch {
          return;
        }
        if (!Array.isArray(records) || !records.length) return;
        const victim = records[pick % records.length]!;
        if (what === 'recordMissingTimestamp') delete victim.timestamp;
        else victim.properties = 'not an object';
        // The damaged record itself may be quarantined (reported); its neighbours may not be lost.
        corruptedIds.add(victim.id as string);
        corruptedAt = Math.max(corruptedAt, 0);
        storage.map.set(chunk, JSON.stringify(records));
        return;
      }
      case 'leaseMalformed':
        storage.map.set(`l:bad${pick}`, JSON.stringify({ until: 1e16, ids: 1 }));
        return;
      case 'leaseFuture':
        // The clock went back after this lease was written: it claims the chunk for ~30 years.
        if (chunk) storage.map.set(`l:future${pick}`, JSON.stringify({ until: time + 1e12, ids: chunkIds(storage.map.get(chunk)!) }));
        return;
      case 'rulesForever':
        storage.map.set('rules', JSON.stringify([{ until: 1e300 }]));
        return;
      case 'rulesGarbage':
        storage.map.set('rules', '[{"name": 1, "until": "soon"}, null');
        return;
    }
  }

  // After every step: caps hold, counters are numbers, rules are bounded.
  function checkLive(index: number): void {
    for (const tab of liveTabs()) {
      const stats = tab.tracker!.stats();
      const numbers = [stats.tracked, stats.sent, stats.queued, stats.inFlight, stats.requests, ...Object.values(stats.dropped)];
      if (!numbers.every((n) => Number.isFinite(n) && n >= 0)) violate(`${tab.name}: a counter is not a finite count after step ${index}: ${JSON.stringify(stats)}`);
      if (stats.queued > config.maxQueueEvents) violate(`${tab.name}: ${stats.queued} events queued over maxQueueEvents ${config.maxQueueEvents} after step ${index}`);
      const rules = tab.tracker!.rules();
      if (rules.length > maxRules) violate(`${tab.name}: ${rules.length} rules kept, over wire.ts maxRules ${maxRules}`);
      for (const rule of rules) {
        const meant = rule.name === ruledName || /^rule-\d+$/.test(rule.name ?? '');
        if (!meant || rule.stream !== undefined || rule.sourceId !== undefined) violate(`${tab.name}: adopted a rule the collector never meant: ${JSON.stringify(rule).slice(0, 120)}`);
      }
      if (tab.maxDepth >= 50) violate(`${tab.name}: onError re-entered track() ${tab.maxDepth} deep`);
    }
  }

  async function finish(): Promise<void> {
    tabsBeforeFinish = tabsEver;
    network.heal();
    storage.faults = { failRate: 0, loseRate: 0, latencyMs: storage.faults.latencyMs };
    // A reload on the shared storage picks up what crashed or closed tabs left behind.
    const final = config.storage ? openTab() : undefined;
    const healedAt = clock.monotonic();
    // What delivery may take once the network is healthy: a server pause (maxRetryAfterMs, 1 h by
    // default), a backoff, a flush interval, a lease and a hung request (2 x timeoutMs each), slack.
    const clamp = (ms: number) => Math.min(ms, 2 ** 31 - 1);
    // Plus the backlog sent one request after another, at the network's latency (seed 126626748:
    // 249 single-event batches at 500 ms after a 1 h pause overran the 120 s of slack).
    const backlogMs = Math.ceil(tracked.length / config.maxBatchEvents) * config.latencyMs;
    const deliveryBudgetMs = 3_600_000 + clamp(config.retry.maxDelayMs) + clamp(config.flushIntervalMs) + 4 * clamp(config.timeoutMs) + 120_000 + backlogMs;
    const finals: { tab: Tab; result?: boolean; at?: number }[] = [];
    for (const tab of liveTabs()) {
      if (tab.closing) continue;
      const entry: { tab: Tab; result?: boolean; at?: number } = { tab };
      finals.push(entry);
      // The longest wait a timer allows; once more if a request hung for a timeoutMs as long.
      const attempt = (left: number): void => {
        tab.tracker!.flush(2 ** 31 - 1).then(
          (result) => (result || !left ? ((entry.at = clock.monotonic()), (entry.result = result)) : attempt(left - 1)),
          (error: unknown) => violate(`final flush() of ${tab.name} rejected: ${describe(error)}`),
        );
      };
      attempt(1);
    }
    void final;
    const begun = clock.monotonic();
    const wakeups = clock.wakeups;
    while (clock.monotonic() - begun < settleLimitMs && (finals.some((f) => f.result === undefined) || pending.some((p) => !p.settled))) {
      // Minutes at first; then hours, up to the longest request timeout a tracker can have (24.8 days).
      await clock.advance(clock.monotonic() - begun < 7_200_000 ? 60_000 : 3_600_000, wakeupsPerSecond * Math.max(1, liveTabs().length));
      if (clock.spinning) return;
      // A healthy network delivers in a few requests: thousands of wake-ups mean a retry loop.
      if (clock.wakeups - wakeups > finalWakeupBudget + 2 * ((clock.monotonic() - begun) / 1000) * Math.max(1, liveTabs().length)) {
        violate(`still not delivered after ${clock.wakeups - wakeups} timer wake-ups (${((clock.monotonic() - begun) / 1000).toFixed(0)} simulated s) on a healthy network`);
        break;
      }
    }
    for (const f of finals) {
      // Once the storage dropped a write it reported done (any tab's chunk, rewrites included), a
      // non-sending tab may wait for a sender that never saw its event: outside the guarantee
      // (docs/durability.md, "What storage must keep"); the loss check below still applies.
      if (f.result !== true && config.coordinate && storage.lostIds.size > 0) continue;
      // Likewise when the history corrupted a non-sending tab's chunk before the sender read it:
      // the sender quarantines it and counts it `corrupt`, naming no id (garbage has none), so the
      // tab keeps its copy. Excused only if every event it waits for was in a corrupted record.
      if (f.result !== true && config.coordinate && onlyCorruptedLeft(f.tab)) continue;
      if (f.result !== true) violate(`${f.tab.name}: flush() did not resolve true on a healthy network (${String(f.result)}; ${JSON.stringify(f.tab.tracker!.stats())})`);
    }
    for (const f of finals) {
      if (f.result && f.at! - healedAt > deliveryBudgetMs) violate(`${f.tab.name}: delivery took ${((f.at! - healedAt) / 1000).toFixed(0)} simulated s on a healthy network (budget ${(deliveryBudgetMs / 1000).toFixed(0)} s)`);
    }
    for (const p of pending) if (!p.settled) violate(`${p.what} never settled`);
    await reloadUntilEmpty();
    checkLive(-1);
    account();
  }

  function onlyCorruptedLeft(tab: Tab): boolean {
    const reported = tabs.some((t) => t.reports.some((r) => r.code === ('corrupt' as string)));
    const dropped = new Set(tabs.flatMap((t) => t.reports.filter((r) => dropReasons.has(r.code)).flatMap((r) => r.events.map((e) => e.id))));
    const waiting = tracked.filter((e) => e.tab === tab && !network.ids.get(e.id)?.stored && !dropped.has(e.id));
    // Events tracked without an id carry the tracker's, unknown to the history: corrupted records
    // under ids it never gave may be those (seed -439420171: a send() of one such event).
    const known = new Set(tracked.map((e) => e.id));
    const anonymous = [...corruptedIds].filter((id) => !known.has(id)).length;
    const queued = tab.tracker!.stats().queued;
    return reported && queued > 0 && waiting.every((e) => corruptedIds.has(e.id)) && queued <= waiting.length + anonymous;
  }

  // Pages loaded after everything settled deliver what storage still holds: a closed tab's last
  // writes, chunks under a lease (waited out first). Two reloads at most; what then remains is stuck.
  async function reloadUntilEmpty(): Promise<void> {
    if (!config.storage) return;
    // Past the leases of requests in flight (2 x timeoutMs), at most two days: a longer lease holds
    // its events by configuration, and a history does not idle through weeks of timer wake-ups.
    const leaseHorizonMs = Math.min(2 * Math.min(config.timeoutMs, 2 ** 31 - 1) + 60_000, 2 * 86_400_000);
    // Acknowledged or dropped events a lost delete left behind are duplicates-to-be, not loss.
    const reported = () => new Set(tabs.flatMap((tab) => tab.reports.filter((r) => dropReasons.has(r.code)).flatMap((r) => r.events.map((e) => e.id))));
    const unaccounted = () => {
      const dropped = reported();
      return [...storage.storedIds()].filter((id) => !corruptedIds.has(id) && !network.ids.get(id)?.stored && !network.ids.get(id)?.ruled && !dropped.has(id));
    };
    for (let round = 0; round < 2 && unaccounted().length; round++) {
      // A live sender keeps the lock, so a reload does not send: it does, once a server's pause
      // (Retry-After, up to maxRetryAfterMs: 1 h, as in the delivery budget) is over (seed 1040571876).
      const pauseMs = round === 0 && liveTabs().length ? 3_600_000 : 0;
      await clock.advance(leaseHorizonMs + pauseMs, wakeupsPerSecond * (liveTabs().length + 1));
      const tab = openTab();
      if (!tab) return;
      let done: boolean | undefined;
      tab.tracker!.flush(2 ** 31 - 1).then((result) => (done = result), () => (done = false));
      const begun = clock.monotonic();
      while (done === undefined && clock.monotonic() - begun < 2 * 86_400_000 && !clock.spinning) await clock.advance(60_000, wakeupsPerSecond * liveTabs().length);
    }
    const left = unaccounted();
    if (leaseHorizonMs === 2 * 86_400_000) return; // leases of a huge timeoutMs may still hold them
    if (left.length) violate(`${left.length} events (${left.slice(0, 3).join(', ')}) still in storage after two reloads on a healthy network and healthy storage`);
  }

  function account(): void {
    // Everything the trackers reported as dropped, by id, and as ruled.
    const dropped = new Map<string, string>();
    for (const tab of tabs) {
      for (const report of tab.reports) {
        if (!dropReasons.has(report.code)) continue;
        for (const event of report.events) {
          dropped.set(event.id, report.code);
          // The collector rules by id: an id reused for another event (the host's own retry id) goes with it.
          if (report.code === 'ruled' && event.name !== ruledName && !network.ids.get(event.id)?.ruled) violate(`${tab.name}: dropped "${event.name}" (${event.id}) as ruled under a rule the collector never made`);
          if (report.code === 'rejected' && typeof event.id === 'string') {
            const seen = network.ids.get(event.id);
            const wasValid = tracked.some((t) => t.id === event.id);
            if (wasValid && !seen?.refusable) {
              violate(`${tab.name}: valid event ${event.id} dropped as rejected (last answer ${String(seen?.lastStatus)}, ${seen?.scripted ? 'scripted' : 'collector validation of another event'}${seen?.alone ? '' : ', not alone'})`);
            }
          }
        }
      }
    }
    const reportsAfterCorruption = corruptedAt >= 0 && tabs.some((tab) => tab.reports.some((r) => r.code === 'storage' || r.code === ('corrupt' as string) || r.code === 'invalid'));
    // Still held for sending: in storage at the end.
    const inStorage = config.storage ? storage.storedIds() : new Set<string>();
    // SIM_DEBUG=1 (with SIM_SEED/SIM_PATH) prints the end state of a history: storage, and each
    // tab's reports and counters; SIM_ID=<id> adds what became of one event.
    if (process.env.SIM_DEBUG) {
      console.log([...storage.map].map(([k, v]) => `${k} = ${v.slice(0, 300)}`).join('\n'));
      const id = process.env.SIM_ID;
      if (id) console.log('id', id, JSON.stringify(network.ids.get(id)), inStorage.has(id), tabs.map((t) => t.reports.filter((r) => r.events.some((e) => e.id === id)).map((r) => r.code)));
      for (const tab of tabs) console.log(tab.name, tab.dead, tab.closeResult, tab.reports.map((r) => `${r.code}: ${r.message} [${r.events.map((e) => e.id).join(',')}]`), JSON.stringify(tab.tracker?.stats()));
    }
    const lost = new Map<Tab, Tracked[]>();
    for (const event of tracked) {
      const seen = network.ids.get(event.id);
      if (seen?.stored) continue;
      // Reported under any reason will do (for a ruled one, a retry limit may run out first if the reply was lost).
      if (dropped.has(event.id)) continue;
      if (event.tab.dead && event.durableAtCrash === false) continue; // lost with the crashed tab's last tick
      if (corruptedIds.has(event.id) && reportsAfterCorruption) continue;
      // close() said false: the closed tracker still holds it (and said so, for the caller to spill).
      if (event.tab.closeResult === false && event.tab.tracker!.stats().queued > 0) continue;
      // A write the storage reported done and then dropped: outbox trusts a storage's
      // acknowledgement. Once its tab is gone nobody can know; and a tab becoming the sender cannot
      // tell the missing chunk from one another tab delivered and deleted, so it lets the event go
      // (docs/durability.md, "What storage must keep"). Keeping it instead would re-send what other
      // tabs delivered whenever their last acknowledgement broadcast is lost.
      if (storage.lostIds.has(event.id)) continue;
      // Held in storage: the next page sends it (a closed tab's last writes may land after the
      // final reload read storage; a lease may still run).
      if (inStorage.has(event.id)) continue;
      if (seen?.ruled) {
        violate(`the collector dropped ${event.id} under its rule and said so (ruled), but the tracker counted it sent`);
        continue;
      }
      lost.set(event.tab, [...(lost.get(event.tab) ?? []), event]);
    }
    // Drops past the tracker's bound on reports per call are counted (`unreportedErrors`) but
    // their events are not listed: that many unlisted ids are accounted by the count. Pooled over
    // all tabs: the tab that drops (the sender, or one that loaded storage) may not be the one that
    // tracked the event (seed -1318360457: tab0's cut-off overflow report was tab1's e1000).
    const unlisted = tabs.reduce((sum, tab) => sum + ((tab.tracker?.stats() as { unreportedErrors?: number } | undefined)?.unreportedErrors ?? 0), 0);
    const lostCount = [...lost.values()].reduce((sum, events) => sum + events.length, 0);
    for (const events of lostCount <= unlisted ? [] : lost.values()) {
      for (const event of events) {
        violate(`event ${event.id} (${event.tab.name}, step ${event.step}) lost: never stored, never reported dropped, not held${corruptedIds.has(event.id) ? ' (its chunk was corrupted and no error was reported)' : ''}`);
      }
    }
    // Counters balance at rest for a tracker that only ever held its own events.
    for (const tab of tabs) {
      // With coordination another tab may send (and count) this tab's events (a reload's page
      // too): by design, not checked when there ever was another; a lone coordinated tab is (it
      // reads the outbox as a new sender). Nor once the storage dropped a chunk delete or rewrite
      // it reported done: what it removed is read back, sent and counted again (the limit "What
      // storage must keep"; seed 1245665988).
      if (tab.dead || tab.loadsOthers || !tab.tracker || tabsBeforeFinish > 1 || corruptedAt >= 0 || (coordinate && tabsEver > 1) || storage.lostRemovals > 0) continue;
      const s = tab.tracker.stats();
      const drops = Object.values(s.dropped).reduce((a, b) => a + b, 0);
      if (s.tracked !== s.sent + drops + s.queued) violate(`${tab.name}: counters do not balance: tracked ${s.tracked} != sent ${s.sent} + dropped ${drops} + queued ${s.queued}`);
    }
    // Protocol: one probe at a time while failing; Retry-After honoured; nothing after close.
    for (const owner of new Set(network.log.map((entry) => entry.owner))) {
      if (owner === 'global' && tabsEver > 1) continue;
      for (const message of protocolViolations(owner, network.marks)) violate(message);
      const tab = tabs.find((t) => t.name === owner);
      if (tab?.closedAt !== undefined && network.log.some((r) => r.owner === owner && r.start > tab.closedAt!)) violate(`${owner} sent a request after close() resolved`);
    }
    if (network.overRead > maxReplyBytes * 2) violate(`a 2xx reply body was read to ${network.overRead} bytes (wire.ts maxReplyBytes is ${maxReplyBytes}): it must be cancelled`);
    for (const message of network.violations) violate(message);
  }
}

function describe(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}` : String(value);
  } catch {
    return '(a value that cannot even be turned into a string)';
  }
}

export type { SimClock, SimNetwork, SimStorage };

/** `CompressionStream('gzip')` computed in the calling thread (see where it is installed). */
class InThreadGzipStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor() {
    const parts: Uint8Array[] = [];
    super({
      transform: (chunk) => void parts.push(chunk),
      flush: (controller) => controller.enqueue(new Uint8Array(gzipSync(Buffer.concat(parts)))),
    });
  }
}
