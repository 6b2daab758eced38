// The scheduler's decisions as values (issue 11): which requests start, when the one timer wakes,
// what is due when it fires. Pure functions, table-driven: no timers, no network.
import { describe, expect, it } from 'vitest';
import type { QueuedEvent } from '../../src/event.js';
import { decideDue, decideStarts, decideWake, type StartInput } from '../../src/engine/schedule.js';

/** What decideWake reads, named (it takes them positionally). */
interface WakeInput {
  pausedUntil: number;
  unbatched: number;
  draining: boolean;
  nextFlushAt: number | undefined;
  nextRescanAt: number | undefined;
  heldUntil: number;
}

let n = 0;
const ev = (sourceId = 's', stream = '', bytes = 10): QueuedEvent => ({ id: `e${n}`, name: 'x', sourceId, stream, json: '{}', bytes, seq: n++ });
const batch = (...events: QueuedEvent[]) => ({ events });
const limits = { maxEvents: 3, maxBytes: 1000 };
const ids = (lists: readonly (readonly QueuedEvent[])[]) => lists.map((list) => list.map((e) => e.id));

describe('decideStarts', () => {
  type Input = Omit<StartInput<QueuedEvent, { events: QueuedEvent[] }>, 'candidates'> & { allowed: number; draining: boolean; candidates: () => QueuedEvent[]; batchLimits: typeof limits };
  const start = ({ allowed, draining, batchLimits, ...queue }: Input) => {
    const [starts, cut] = decideStarts(queue, 0, allowed, draining, batchLimits);
    return { starts, cut };
  };
  it('starts waiting batches in line order while slots are free', () => {
    const a = batch(ev('a')), b = batch(ev('b')), c = batch(ev('c'));
    const decision = start({ waitingBatches: [a, b, c], flying: [], allowed: 2, unbatched: 0, draining: true, candidates: () => [], batchLimits: limits });
    expect(decision.starts).toEqual([a, b]);
    expect(decision.cut).toEqual([]);
  });

  it('holds back a waiting batch sharing an ordering key with one in flight or earlier in line', () => {
    const flying = batch(ev('a'));
    const sameAsFlying = batch(ev('a'));
    const b1 = batch(ev('b'));
    const b2 = batch(ev('b'));
    const other = batch(ev('b', 'stream2'));
    const decision = start({ waitingBatches: [sameAsFlying, b1, b2, other], flying: [flying], allowed: 10, unbatched: 0, draining: true, candidates: () => [], batchLimits: limits });
    expect(decision.starts).toEqual([b1, other]);
  });

  it.each([
    { name: 'not draining, fewer than a full batch: nothing cut', unbatched: 2, draining: false, allowed: 4, cuts: 0 },
    { name: 'not draining, a full batch queued: one cut', unbatched: 4, draining: false, allowed: 4, cuts: 1 },
    { name: 'draining: every candidate cut', unbatched: 4, draining: true, allowed: 4, cuts: 2 },
    { name: 'draining but no slot: nothing cut', unbatched: 4, draining: true, allowed: 0, cuts: 0 },
    { name: 'draining with one slot: one cut', unbatched: 4, draining: true, allowed: 1, cuts: 1 },
  ])('$name', ({ unbatched, draining, allowed, cuts }) => {
    // Two sources: a's three events fill one batch; b's event goes in a second.
    const events = [ev('a'), ev('a'), ev('a'), ev('b')].slice(0, unbatched);
    const decision = start({ waitingBatches: [], flying: [], allowed, unbatched, draining, candidates: () => events, batchLimits: limits });
    expect(decision.cut.length).toBe(cuts);
    expect(decision.cut.flat().length).toBe([3, 4][cuts - 1] ?? 0);
  });

  it('never cuts an event whose source has a batch waiting or in flight (order per source)', () => {
    const a = ev('a'), b = ev('b'), c = ev('c');
    const decision = start({ waitingBatches: [batch(ev('b'))], flying: [batch(ev('a'))], allowed: 1, unbatched: 3, draining: true, candidates: () => [a, b, c], batchLimits: limits });
    // The waiting b batch cannot start (no slot left after the one in flight), yet it blocks b.
    expect(decision.starts).toEqual([]);
    expect(decision.cut).toEqual([]);
    const wider = start({ waitingBatches: [batch(ev('b'))], flying: [batch(ev('a'))], allowed: 3, unbatched: 3, draining: true, candidates: () => [a, b, c], batchLimits: limits });
    expect(wider.starts.length).toBe(1);
    expect(ids(wider.cut)).toEqual([[c.id]]);
  });

  it('cuts each stream apart, within the byte limit', () => {
    const events = [ev('a', 's1', 400), ev('b', 's2', 10), ev('c', 's1', 400), ev('d', 's1', 400)];
    const decision = start({ waitingBatches: [], flying: [], allowed: 10, unbatched: 4, draining: true, candidates: () => events, batchLimits: limits });
    expect(ids(decision.cut)).toEqual([[events[0]!.id, events[2]!.id], [events[1]!.id], [events[3]!.id]]);
  });
});

describe('decideWake', () => {
  const base: WakeInput = { pausedUntil: 0, unbatched: 0, draining: false, nextFlushAt: undefined, nextRescanAt: undefined, heldUntil: Infinity };
  it.each<{ name: string; input: Partial<WakeInput>; wakeAt: number; nextFlushAt?: number; nextRescanAt?: number }>([
    { name: 'nothing queued, nothing due: no timer', input: {}, wakeAt: Infinity },
    { name: 'events queued: the flush interval', input: { unbatched: 1, nextFlushAt: 1050 }, wakeAt: 1050, nextFlushAt: 1050 },
    { name: 'draining: no flush timer (the pump runs)', input: { unbatched: 1, nextFlushAt: 1050, draining: true }, wakeAt: Infinity, nextFlushAt: 1050 },
    { name: 'paused: the end of the pause, not the flush', input: { unbatched: 1, nextFlushAt: 1050, pausedUntil: 3000 }, wakeAt: 3000, nextFlushAt: 1050 },
    { name: 'a pause that ended counts for nothing', input: { unbatched: 1, nextFlushAt: 1050, pausedUntil: 900 }, wakeAt: 1050, nextFlushAt: 1050 },
    { name: 'a held event due before the flush', input: { unbatched: 1, nextFlushAt: 1050, heldUntil: 1020 }, wakeAt: 1020, nextFlushAt: 1050 },
    { name: 'a hold with nothing unbatched is ignored', input: { heldUntil: 1020 }, wakeAt: Infinity },
    { name: 'a rescan wins over a later pause', input: { pausedUntil: 3000, nextRescanAt: 1200 }, wakeAt: 1200, nextRescanAt: 1200 },
    { name: 'clock went back: the flush is cut to one interval', input: { unbatched: 1, nextFlushAt: 90_000 }, wakeAt: 1100, nextFlushAt: 1100 },
    { name: 'clock went back: the rescan is cut to the longest lease', input: { nextRescanAt: 90_000 }, wakeAt: 1500, nextRescanAt: 1500 },
  ])('$name', ({ input, wakeAt, nextFlushAt, nextRescanAt }) => {
    // At 1000, a 100 ms flush interval, rescans at most 500 ms ahead.
    const i = { ...base, ...input };
    expect(decideWake(1000, i.pausedUntil, i.unbatched, i.draining, i.nextFlushAt, i.nextRescanAt, i.heldUntil, 100, 500)).toEqual([wakeAt, nextFlushAt, nextRescanAt]);
  });
});

describe('decideDue', () => {
  it.each([
    { name: 'nothing due', state: { nextFlushAt: 2000, nextRescanAt: 3000, unbatched: 5 }, due: { rescan: false, drainNow: false, nextFlushAt: 2000, nextRescanAt: 3000 } },
    { name: 'flush due with enough events: drain', state: { nextFlushAt: 1000, nextRescanAt: undefined, unbatched: 2 }, due: { rescan: false, drainNow: true, nextFlushAt: 1000, nextRescanAt: undefined } },
    // Not another interval: a timer that found too few woke every interval for nothing (sim seed -1448556261).
    { name: 'flush due with too few events: the flush timer stops', state: { nextFlushAt: 900, nextRescanAt: undefined, unbatched: 1 }, due: { rescan: false, drainNow: false, nextFlushAt: undefined, nextRescanAt: undefined } },
    { name: 'rescan due: done once', state: { nextFlushAt: undefined, nextRescanAt: 1000, unbatched: 0 }, due: { rescan: true, drainNow: false, nextFlushAt: undefined, nextRescanAt: undefined } },
  ])('$name', ({ state, due }) => {
    expect(decideDue(1000, state.nextFlushAt, state.nextRescanAt, state.unbatched, 2)).toEqual([due.rescan, due.drainNow, due.nextFlushAt, due.nextRescanAt]);
  });
});
