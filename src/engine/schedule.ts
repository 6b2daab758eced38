import { cutBatch, orderingKey, type BatchLimits } from '../batch.js';
import type { QueuedEvent } from '../event.js';

/** The queue as the start decision reads it (see {@link decideStarts}): the queue model fits. */
export interface StartInput<E extends QueuedEvent, B extends { events: readonly E[] }> {
  /** Batches to start, in line order. */
  waitingBatches: readonly B[];
  /** Batches in flight. */
  flying: Iterable<B>;
  /** Entries no batch holds. */
  unbatched: number;
  /** Entries a new batch may take at `time`, oldest first (iterated again for each cut). */
  candidates(time: number): Iterable<E>;
}

/** Which batches start now: `[starts, cut]`, waiting ones first, then new ones cut from the candidates, in order. */
export type StartDecision<E, B> = [starts: B[], cut: E[][]];

/**
 * Which requests start at `time`, `allowed` being how many may be under way (queue-backoff.ts
 * `allowedInFlight`) and `draining` whether everything unbatched goes now, not only full batches.
 * Pure. A waiting batch starts when a slot is free and no batch before it or in flight shares one
 * of its ordering keys (one source's events arrive in order); new batches are cut while slots are
 * free and either a full batch is queued or the queue drains.
 */
export function decideStarts<E extends QueuedEvent, B extends { events: readonly E[] }>(queue: StartInput<E, B>, time: number, allowed: number, draining: boolean, batchLimits: BatchLimits): StartDecision<E, B> {
  const starts: B[] = [];
  const cut: E[][] = [];
  let busy = 0;
  let { unbatched } = queue;
  const blocked = new Set<string>();
  const block = (events: readonly E[]) => events.forEach((e) => blocked.add(orderingKey(e)));
  for (const batch of queue.flying) {
    busy++;
    block(batch.events);
  }
  for (const batch of queue.waitingBatches) {
    if (busy < allowed && !batch.events.some((e) => blocked.has(orderingKey(e)))) {
      starts.push(batch);
      busy++;
    }
    block(batch.events);
  }
  while (busy < allowed && unbatched > 0 && (draining || unbatched >= batchLimits.maxEvents)) {
    const events = cutBatch(queue.candidates(time), batchLimits, blocked);
    if (!events.length) break;
    cut.push(events);
    unbatched -= events.length;
    busy++;
    block(events);
  }
  return [starts, cut];
}

/**
 * When the engine's one timer fires next after `now` (Infinity: not at all), and the flush and
 * rescan times cut back after the clock went back: `[wakeAt, nextFlushAt, nextRescanAt]`. Pure.
 * The queue's backoff pause ends at `pausedUntil` (0: none); `heldUntil` is the earliest hold-back
 * of the unload path still in force (Infinity: none); a rescan lies at most `maxRescanMs` ahead
 * (a lease's longest life). Waiting batches need no time of their own: they go after the queue's
 * pause, or after the settle that frees their slot.
 */
export function decideWake(
  now: number,
  pausedUntil: number,
  unbatched: number,
  draining: boolean,
  nextFlushAt: number | undefined,
  nextRescanAt: number | undefined,
  heldUntil: number,
  flushIntervalMs: number,
  maxRescanMs: number,
): [wakeAt: number, nextFlushAt: number | undefined, nextRescanAt: number | undefined] {
  // Wall-clock targets: after the clock went back they would be far away (sim F4). None may lie
  // further than the interval that set it.
  if (nextFlushAt! > now + flushIntervalMs) nextFlushAt = now + flushIntervalMs;
  if (nextRescanAt! > now + maxRescanMs) nextRescanAt = now + maxRescanMs;
  // Paused: nothing but a rescan before the pause ends. Draining: the pump runs, no flush timer.
  const queued = unbatched > 0 ? Math.min(draining ? Infinity : nextFlushAt ?? Infinity, heldUntil) : Infinity;
  return [Math.min(pausedUntil > now ? pausedUntil : queued, nextRescanAt ?? Infinity), nextFlushAt, nextRescanAt];
}

/**
 * What is due when the timer fires at `now`: `[rescan, drainNow, nextFlushAt, nextRescanAt]`
 * (drainNow: the flush interval passed with enough events queued). Pure. A flush interval that
 * passed with fewer than `minBatchEvents` unbatched stops the flush timer: re-armed, it woke every
 * interval for nothing (sim seed -1448556261); `Scheduler.onQueued` starts it again once enough wait.
 */
export function decideDue(
  now: number,
  nextFlushAt: number | undefined,
  nextRescanAt: number | undefined,
  unbatched: number,
  minBatchEvents: number,
): [rescan: boolean, drainNow: boolean, nextFlushAt: number | undefined, nextRescanAt: number | undefined] {
  const rescan = nextRescanAt! <= now;
  if (rescan) nextRescanAt = undefined;
  let drainNow = false;
  if (nextFlushAt! <= now) {
    if (unbatched >= minBatchEvents) drainNow = true;
    else nextFlushAt = undefined;
  }
  return [rescan, drainNow, nextFlushAt, nextRescanAt];
}
