// The flush timer on an injected clock: it runs only while at least minBatchEvents events wait.
// Issue 9 ("bounded timer wake-ups"): a timer that found too few re-armed every flushIntervalMs
// for nothing, forever in a page that tracked one event under minBatchEvents (sim seed -1448556261).
import { describe, expect, it } from 'vitest';
import { createTracker, type SendOutcome, type WireBatch } from '../../src/index.js';
import { manualTimers } from './manual-timers.js';

const flushIntervalMs = 100;

function ackingTransport() {
  const sentAt: number[] = [];
  let clock = () => 0;
  return {
    sentAt,
    setClock: (now: () => number) => (clock = now),
    transport: {
      async send(batch: WireBatch): Promise<SendOutcome> {
        for (const _ of batch.events) sentAt.push(clock());
        return { kind: 'ok', status: 200 };
      },
    },
  };
}

describe('the flush timer waits for minBatchEvents without waking', () => {
  // [minBatchEvents, events tracked at t=0, events tracked at t=350, wake-ups over 10 intervals, sent, when the batch left]
  const cases: [number, number, number, number, number, number | undefined][] = [
    [5, 1, 0, 0, 0, undefined], // below the threshold: no timer at all (was 10 idle wake-ups)
    [5, 4, 0, 0, 0, undefined],
    [5, 5, 0, 1, 5, 100], // reached at once: one interval later
    [5, 4, 1, 1, 5, 450], // reached at t=350: one interval after that
    [1, 1, 0, 1, 1, 100], // the default: every event starts the interval
    [3, 2, 3, 1, 5, 450],
  ];
  it.each(cases)('minBatchEvents %i, %i events then %i more: %i wake-ups, %i sent', async (minBatchEvents, first, later, wakeups, sent, leftAt) => {
    const clock = manualTimers();
    const { sentAt, setClock, transport } = ackingTransport();
    setClock(clock.now);
    const tracker = createTracker({ transport, storage: false, minBatchEvents, maxBatchEvents: 10, flushIntervalMs, now: clock.now, timers: clock.timers });
    await clock.tick(); // storage (none) ready
    for (let i = 0; i < first; i++) tracker.track('e');
    await clock.advance(350);
    for (let i = 0; i < later; i++) tracker.track('e');
    await clock.advance(10 * flushIntervalMs - 350);
    expect(clock.wakeups).toBe(wakeups);
    expect(sentAt).toHaveLength(sent);
    expect(sentAt[0]).toBe(leftAt);
    expect(tracker.stats().queued).toBe(first + later - sent);
  });

  it('events left under the threshold still go on flush()', async () => {
    const clock = manualTimers();
    const { sentAt, transport } = ackingTransport();
    const tracker = createTracker({ transport, storage: false, minBatchEvents: 5, flushIntervalMs, now: clock.now, timers: clock.timers });
    await clock.tick();
    tracker.track('e');
    await clock.advance(1000);
    expect(clock.wakeups).toBe(0);
    const flushed = tracker.flush(1000);
    await clock.advance(10);
    expect(await flushed).toBe(true);
    expect(sentAt).toHaveLength(1);
  });
});
