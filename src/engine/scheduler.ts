import type { BatchLimits } from '../batch.js';
import { maxTimerDelayMs, minLeaseCapMs, type ResolvedOptions } from '../options.js';
import { allowedInFlight, healthy, rebase, type QueueBackoff } from '../queue-backoff.js';
import type { Batch, QueueModel } from './queue-model.js';
import { decideDue, decideStarts, decideWake } from './schedule.js';

/**
 * The scheduler (see {@link createScheduler}): the engine's only timer and microtask. It applies
 * the pure decisions of schedule.ts; its fields are the state they read.
 */
export interface Scheduler {
  /** Whether this tab sends (false: another tab sends for it). */
  isSending: boolean;
  /** Storage was read (or given up): before that nothing is sent. */
  isReady: boolean;
  isClosed: boolean;
  /** The queue's backoff: set by delivery from each outcome. */
  backoff: QueueBackoff;
  /** Everything unbatched goes at the next pump, not only full batches (loaded events). */
  drainAll(): void;
  /** Drains soon (a flush, the page shown again), after a reset of the backoff when asked (`online`). */
  wake(resetBackoff?: boolean): void;
  /** Pumps on the next microtask (once however often asked). */
  soon(): void;
  /** Starts what may start now, then re-arms the timer. */
  pump(): void;
  /**
   * Re-arms the timer for the next thing due (none once closed, nor a write retry). `time`: the
   * caller's own clock reading, if it decided on one (the pump).
   */
  arm(time?: number): void;
  /** Runs `write` after `delayMs`: the outbox's retry of a failed write (one at a time; none once closed). */
  retry(delayMs: number, write: () => void): void;
  /** An event was queued: the flush interval starts, a full batch goes at once. */
  onQueued(): void;
  /** Rescans storage at `at` at the latest; after a read (`loaded`), loaded events are due at once. */
  rescanBy(at: number | undefined, loaded?: boolean): void;
}

/**
 * Creates the {@link Scheduler}: sending, not ready, healthy, no timer armed. `options` give the
 * clock, the timers, the flush interval, minBatchEvents and concurrency; a rescan lies at most a
 * lease's longest life ahead (their timeout's and the storage link's caps). It calls `startBatch` (delivery) to start a batch's
 * request and `rescan` (the storage link) to read what other writers appended.
 */
export function createScheduler(
  options: ResolvedOptions,
  queueModel: QueueModel,
  batchLimits: BatchLimits,
  startBatch: (batch: Batch) => void,
  rescan: () => void,
): Scheduler {
  const { now, timers, flushIntervalMs } = options;
  // A lease lives at most this long (storage-link.ts caps stored leases): a rescan lies no further ahead.
  const maxRescanMs = Math.max(flushIntervalMs, options.timeoutMs * 2, minLeaseCapMs);
  let pumpQueued = false;
  // Everything unbatched goes now, not only full batches (a flush, the interval, loaded events).
  let draining = false;
  let nextFlushAt: number | undefined;
  let nextRescanAt: number | undefined;
  let timer: unknown;
  let timerAt = Infinity;
  let writeTimer: unknown; // the outbox's retry of a failed write

  const self: Scheduler = {
    isSending: true,
    isReady: false,
    isClosed: false,
    backoff: healthy,
    soon() {
      if (pumpQueued) return;
      pumpQueued = true;
      queueMicrotask(pump);
    },
    drainAll: () => void (draining = true),
    wake(resetBackoff) {
      if (resetBackoff) self.backoff = healthy;
      draining = true;
      self.soon();
    },
    pump,
    arm,
    retry(delayMs, write) {
      timers.clearTimeout(writeTimer);
      if (!self.isClosed) writeTimer = timers.setTimeout(write, delayMs);
    },
    onQueued() {
      // The flush timer runs only while enough events wait to send: fewer stay put, and a timer
      // that found too few woke every interval for nothing while the page lived (seed -1448556261).
      if (nextFlushAt === undefined && queueModel.unbatched >= options.minBatchEvents) {
        nextFlushAt = now() + flushIntervalMs;
        arm();
      }
      if (queueModel.unbatched >= batchLimits.maxEvents) self.soon();
    },
    rescanBy(at, loaded) {
      if (at! < (nextRescanAt ?? Infinity)) nextRescanAt = at; // undefined compares false: no change
      // Their tab's flush() may wait on this one.
      if (loaded && queueModel.unbatched > 0 && nextFlushAt === undefined) nextFlushAt = now();
    },
  };

  function pump(): void {
    pumpQueued = false;
    if (self.isClosed || !self.isSending || !self.isReady) return;
    const time = now();
    // Re-based before it is read, not only when the timer is armed: a pause read un-based after
    // the clock went back allowed nothing, and the timer saw none to wait for (sim F9).
    self.backoff = rebase(self.backoff, time);
    // While the collector fails, the whole queue waits, then sends one probe at a time.
    const allowed = allowedInFlight(self.backoff, time, options.concurrency);
    if (queueModel.flying.size >= allowed) return arm(time);
    const [starts, cut] = decideStarts(queueModel, time, allowed, draining, batchLimits);
    // A transport that re-enters track() while a request starts may evict what was decided on.
    for (const batch of starts) if (queueModel.waitingBatches.includes(batch)) startBatch(batch);
    for (const events of cut) if (events.every((e) => !e.gone && !e.batch)) startBatch(queueModel.newBatch(events));
    if (queueModel.unbatched === 0) {
      draining = false;
      nextFlushAt = undefined;
    }
    arm(time);
  }

  // `time`: the pump's own reading. Read again here, the clock could pass the pause's end that the
  // pump found not yet over: nothing started, no timer armed, the queue stalled for good (Node and
  // Firefox, about 1 in 10 runs of a collector refusing connections; delivery.test.ts).
  function arm(time = now()): void {
    self.backoff = rebase(self.backoff, time);
    let at: number;
    [at, nextFlushAt, nextRescanAt] = decideWake(time, self.backoff.until, queueModel.unbatched, draining, nextFlushAt, nextRescanAt, queueModel.nextHold(time), flushIntervalMs, maxRescanMs);
    if (self.isClosed) {
      at = Infinity;
      timers.clearTimeout(writeTimer);
    }
    if (at === timerAt) return;
    if (timer !== undefined) timers.clearTimeout(timer);
    timerAt = at;
    timer = undefined;
    if (at === Infinity) return;
    // A timer cannot wait longer than 2^31-1 ms (a longer delay fires at once, and spins): wake
    // then and re-arm. An integer delay, for simulated clocks too.
    timer = timers.setTimeout(onTimer, Math.min(Math.max(0, Math.ceil(at - time)), maxTimerDelayMs));
  }

  function onTimer(): void {
    timerAt = Infinity;
    timer = undefined;
    let rescanNow, drainNow;
    [rescanNow, drainNow, nextFlushAt, nextRescanAt] = decideDue(now(), nextFlushAt, nextRescanAt, queueModel.unbatched, options.minBatchEvents);
    if (rescanNow) rescan();
    if (drainNow) draining = true;
    pump();
  }

  return self;
}
