import { createFlushWaiters } from './flush-waiters.js';
import type { TrackOptions } from './event.js';
import type { PlatformDefaults } from './integration.js';
import { resolveOptions, type TrackerOptions } from './options.js';
import type { ActiveRule } from './rules.js';
import { createReporter } from './reporter.js';
import { createStatsCounters, snapshotStats, type TrackerStats } from './stats.js';
import { createHttpTransport } from './transport/http.js';
import { createCoreView } from './engine/core-view.js';
import { createDelivery } from './engine/delivery.js';
import { createIntake } from './engine/intake.js';
import { createQueueModel } from './engine/queue-model.js';
import { createRuleBook } from './engine/rule-book.js';
import { createScheduler } from './engine/scheduler.js';
import { createSendCall, waitMs, type SendEventInput, type SendResult } from './engine/send-call.js';
import { createStorageLink } from './engine/storage-link.js';
import { testConnection, type ConnectionTestResult } from './engine/test-connection.js';

export type { SendEventInput, SendResult, ConnectionTestResult };

/** A tracker: see {@link createTracker}. */
export interface Tracker {
  /**
   * Queues an event. Never throws and never waits: a bad event is reported through `onError`
   * and counted in `stats().dropped`, and the queue stays intact.
   */
  track(name: string, properties?: Record<string, unknown>, options?: TrackOptions): void;
  /**
   * Sends these events now, bypassing the timer but not the retry policy. Resolves when all are
   * acknowledged or dropped, or when `timeoutMs` passes (default 30 s; they stay queued).
   */
  send(events: readonly SendEventInput[], timeoutMs?: number): Promise<SendResult>;
  /** Sends everything queued; resolves true once all of it was acknowledged, false on timeout (default 30 s). */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Flushes, then stops every timer and listener. Resolves with the flush result. */
  close(timeoutMs?: number): Promise<boolean>;
  /** Counters: tracked, sent, retried, queued, dropped by reason, requests, latency, bytes. */
  stats(): TrackerStats;
  /**
   * Probes the collector with an empty, flagged request that records nothing: through `stream`'s
   * endpoint and signer when given, else the tracker's. Never rejects: a failure is `ok: false`.
   */
  testConnection(stream?: string): Promise<ConnectionTestResult>;
  /** The server drop rules in force. */
  rules(): readonly ActiveRule[];
}


/**
 * Creates a tracker on a given platform: its integrations and default storage. `createTracker`
 * (the browser-aware default) and the Workers entries call this; a Worker bundle that never
 * imports `platform/defaults.ts` carries no browser code. Wiring only: the engine's owners are in
 * `engine/` (docs/design.md, "Flow").
 */
export function createTrackerOn(platformDefaults: PlatformDefaults, trackerOptions: TrackerOptions): Tracker {
  const options = resolveOptions(trackerOptions);
  const { now, timers } = options;
  const counters = createStatsCounters();
  const report = createReporter(options.onError, counters);
  const queueModel = createQueueModel({ maxEvents: options.maxQueueEvents, maxBytes: options.maxQueueBytes });
  const flushWaiters = createFlushWaiters(timers);
  const leftListeners = new Set<(ids: readonly string[]) => void>();
  const stops: (() => void)[] = [];

  // Resolves flush() calls once nothing they were waiting for remains. Before storage is read, an
  // empty queue does not mean delivered: the backlog is not in yet.
  const settleWaiters = () => queueScheduler.isReady && flushWaiters.settle(queueModel.deque.values());
  // Events that left the outbox for good: tabs holding copies forget them (sim F6, F15).
  const onLeft = (events: readonly { id: string }[]) => {
    const ids = events.map((e) => e.id);
    leftListeners.forEach((listener) => listener(ids));
  };
  const batchLimits = { maxEvents: options.maxBatchEvents, maxBytes: options.maxBatchBytes };
  const queueScheduler = createScheduler(
    options,
    queueModel,
    batchLimits,
    (batch) => queueDelivery.startBatch(batch),
    () => void storageLink.rescan(),
  );
  const rules = createRuleBook(queueModel, () => queueDelivery, () => storageLink.linkedOutbox);
  const queueDelivery = createDelivery(options, options.transport ?? createHttpTransport(options), queueModel, queueScheduler, counters, report, () => storageLink, rules.applyReply, onLeft, settleWaiters);
  const storageLink = createStorageLink(options, platformDefaults, queueModel, queueScheduler, queueDelivery, rules, counters, report, settleWaiters, onLeft);
  const intake = createIntake(options, counters, queueModel, queueScheduler, queueDelivery, rules, storageLink, report);

  function flush(timeoutMs?: number): Promise<boolean> {
    if (queueScheduler.isClosed && !queueModel.deque.size) return Promise.resolve(true);
    const done = flushWaiters.wait(intake.nextSeq, waitMs(timeoutMs));
    queueScheduler.wake();
    settleWaiters();
    return done.then(async (delivered) => {
      await storageLink.linkedOutbox?.idle();
      return delivered;
    });
  }

  async function close(timeoutMs?: number): Promise<boolean> {
    // Events tracked while close() flushes (a streaming response) are flushed too, within the
    // same time; whatever remains makes it resolve false, so the caller can spill it.
    const deadline = now() + waitMs(timeoutMs);
    let delivered = await flush(waitMs(timeoutMs));
    while (delivered && queueModel.deque.size > 0 && now() < deadline) delivered = await flush(deadline - now());
    delivered &&= queueModel.deque.size === 0;
    queueScheduler.isClosed = true;
    queueScheduler.arm();
    stops.splice(0).forEach((stopTimer) => stopTimer());
    await storageLink.linkedOutbox?.idle();
    return delivered;
  }

  function stats(): TrackerStats {
    return snapshotStats(counters, queueModel.deque.size, queueModel.deque.bytes, queueModel.flyingEvents());
  }

  if (options.clientStatsIntervalMs > 0) {
    let statsTimer: unknown;
    const tick = () => {
      statsTimer = timers.setTimeout(tick, options.clientStatsIntervalMs);
      // The counters, plus the settings they help tune (Samsara's planned send_client_stats).
      intake.track('outbox.client_stats', { ...stats(), intervalMs: options.clientStatsIntervalMs, maxQueueEvents: options.maxQueueEvents, flushIntervalMs: options.flushIntervalMs });
    };
    statsTimer = timers.setTimeout(tick, options.clientStatsIntervalMs);
    stops.push(() => timers.clearTimeout(statsTimer));
  }

  const core = createCoreView(options, counters, queueModel, queueScheduler, storageLink, queueDelivery, intake, leftListeners, settleWaiters, report);
  for (const integration of platformDefaults.integrations) {
    const stopTimer = integration(core);
    if (stopTimer) stops.push(stopTimer);
  }
  void storageLink.attach();

  return {
    track: intake.track,
    send: createSendCall(options, counters, queueModel, queueScheduler, intake, report, batchLimits),
    flush,
    close,
    stats,
    testConnection: (stream) => testConnection(options, stream),
    rules: () => rules.allRules.filter((r) => r.until > now()),
  };
}
