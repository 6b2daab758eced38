import { cutBatch, orderingKey, type BatchLimits } from '../batch.js';
import type { QueuedEvent } from '../event.js';

/** What the start decision reads: the queue as it is now (see {@link decideStarts}). */
export interface StartInput<E extends QueuedEvent, B extends { events: readonly E[] }> {
  /** Batches to start, in line order. */
  waitingBatches: readonly B[];
  /** Batches in flight. */
  flying: readonly B[];
  /** Requests allowed under way now (queue-backoff.ts `allowedInFlight`). */
  allowed: number;
  /** Entries no batch holds. */
  unbatched: number;
  /** Whether everything unbatched goes now (a flush, the timer), not only full batches. */
  draining: boolean;
  /** Entries a new batch may take, oldest first (iterated again for each cut). */
  candidates: () => Iterable<E>;
  batchLimits: BatchLimits;
}

/** Which batches start now: waiting ones first, then new ones cut from the candidates, in order. */
export interface StartDecision<E, B> {
  starts: B[];
  cut: E[][];
}

/**
 * Which requests start now. Pure. A waiting batch starts when a slot is free and no batch before
 * it or in flight shares one of its ordering keys (one source's events arrive in order); new
 * batches are cut while slots are free and either a full batch is queued or the queue drains.
 */
export function decideStarts<E extends QueuedEvent, B extends { events: readonly E[] }>(input: StartInput<E, B>): StartDecision<E, B> {
  const decision: StartDecision<E, B> = { starts: [], cut: [] };
  let busy = input.flying.length;
  let { unbatched } = input;
  const blocked = new Set<string>();
  const block = (events: readonly E[]) => events.forEach((e) => blocked.add(orderingKey(e)));
  input.flying.forEach((batch) => block(batch.events));
  for (const batch of input.waitingBatches) {
    if (busy < input.allowed && !batch.events.some((e) => blocked.has(orderingKey(e)))) {
      decision.starts.push(batch);
      busy++;
    }
    block(batch.events);
  }
  const full = input.batchLimits.maxEvents;
  while (busy < input.allowed && unbatched > 0 && (input.draining || unbatched >= full)) {
    const events = cutBatch(input.candidates(), input.batchLimits, blocked);
    if (!events.length) break;
    decision.cut.push(events);
    unbatched -= events.length;
    busy++;
    block(events);
  }
  return decision;
}

/** The state the wake decision reads (see {@link decideWake}); times are epoch ms. */
export interface WakeInput {
  /** The queue's backoff pause ends then (0: none). */
  pausedUntil: number;
  unbatched: number;
  draining: boolean;
  nextFlushAt: number | undefined;
  nextRescanAt: number | undefined;
  /** The earliest hold-back of the unload path still in force (Infinity: none). */
  heldUntil: number;
}

/** When to wake next, and the flush and rescan times cut back after the clock went back. */
export interface WakeDecision {
  wakeAt: number;
  nextFlushAt: number | undefined;
  nextRescanAt: number | undefined;
}

/**
 * When the engine's one timer fires next after `now` (Infinity: not at all). Pure. A rescan lies
 * at most `maxRescanMs` ahead (a lease's longest life). Waiting batches need no time of their
 * own: they go after the queue's pause, or after the settle that frees their slot.
 */
export function decideWake(now: number, input: WakeInput, flushIntervalMs: number, maxRescanMs: number): WakeDecision {
  let { nextFlushAt, nextRescanAt } = input;
  // Wall-clock targets: after the clock went back they would be far away (sim F4). None may lie
  // further than the interval that set it.
  if (nextFlushAt! > now + flushIntervalMs) nextFlushAt = now + flushIntervalMs;
  if (nextRescanAt! > now + maxRescanMs) nextRescanAt = now + maxRescanMs;
  let wakeAt = Infinity;
  if (input.pausedUntil > now) wakeAt = input.pausedUntil;
  else {
    if (input.unbatched > 0 && !input.draining && nextFlushAt !== undefined) wakeAt = nextFlushAt;
    if (input.unbatched > 0) wakeAt = Math.min(wakeAt, input.heldUntil);
  }
  if (nextRescanAt !== undefined) wakeAt = Math.min(wakeAt, nextRescanAt);
  return { wakeAt, nextFlushAt, nextRescanAt };
}

/** What the timer found due (see {@link decideDue}). */
export interface DueDecision {
  rescan: boolean;
  /** Drain the queue now (the flush interval passed with enough events queued). */
  drainNow: boolean;
  nextFlushAt: number | undefined;
  nextRescanAt: number | undefined;
}

/**
 * What is due when the timer fires at `now`. Pure. A flush interval that passed with fewer than
 * `minBatchEvents` queued waits another interval.
 */
export function decideDue(now: number, state: { nextFlushAt: number | undefined; nextRescanAt: number | undefined; unbatched: number }, minBatchEvents: number, flushIntervalMs: number): DueDecision {
  let { nextFlushAt, nextRescanAt } = state;
  const rescan = nextRescanAt !== undefined && nextRescanAt <= now;
  if (rescan) nextRescanAt = undefined;
  let drainNow = false;
  if (nextFlushAt !== undefined && nextFlushAt <= now) {
    if (state.unbatched >= minBatchEvents) drainNow = true;
    else nextFlushAt = now + flushIntervalMs;
  }
  return { rescan, drainNow, nextFlushAt, nextRescanAt };
}
