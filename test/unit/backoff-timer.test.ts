// Regression (issue 9, "nothing stalls"; found in CI: delivery.test.ts "refuses connections" in
// Node, durability.test.ts "collector down" in Firefox, about 1 run in 10): the pump read the clock
// just before the queue's pause ended and started nothing; the timer then read it again, just
// after, found the pause over and armed nothing. With every event in a batch waiting to be retried,
// nothing woke the queue again: `inFlight` 0, `queued` 200, no request, ever.
import { expect, it } from 'vitest';
import { createTracker, type SendOutcome, type WireBatch } from '../../src/index.js';

/**
 * Timers on a manual clock whose reading lags: the first `lagReads` reads inside a timer's
 * callback are 1 ms behind the time the timer fired at (Node's timers run on a monotonic clock,
 * Date.now() may read a millisecond earlier; a loaded machine also lets the clock move between
 * two reads of one task).
 */
function laggingTimers(lagReads: number) {
  let time = 0;
  let lagLeft = 0;
  let nextHandle = 1;
  const pending = new Map<number, { at: number; callback: () => void }>();
  const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
  return {
    now: () => (lagLeft > 0 ? (lagLeft--, time - 1) : time),
    pending,
    timers: {
      setTimeout: (callback: () => void, delayMs: number) => (pending.set(nextHandle, { at: time + delayMs, callback }), nextHandle++),
      clearTimeout: (handle: unknown) => void pending.delete(handle as number),
    },
    async advance(ms: number): Promise<void> {
      const target = time + ms;
      await tick();
      for (;;) {
        const due = [...pending.entries()].filter(([, t]) => t.at <= target).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
        if (!due) break;
        pending.delete(due[0]);
        time = Math.max(time, due[1].at);
        lagLeft = lagReads;
        due[1].callback();
        lagLeft = 0;
        await tick();
      }
      time = target;
      await tick();
    },
  };
}

it('a pause that ends between the pump reading the clock and the timer reading it still wakes the queue', async () => {
  // The timer's own read, then the pump's, lag: the third read (where the timer is armed) does not.
  const clock = laggingTimers(2);
  let calls = 0;
  const delivered: string[] = [];
  const transport = {
    async send(batch: WireBatch): Promise<SendOutcome> {
      // Refused connections (no status: a network error) for the first five requests.
      if (++calls <= 5) return { kind: 'retry', error: new TypeError('fetch failed') };
      for (const event of batch.events) delivered.push((JSON.parse(event.json) as { id: string }).id);
      return { kind: 'ok', status: 200 };
    },
  };
  const tracker = createTracker({
    transport,
    storage: false,
    now: clock.now,
    timers: clock.timers,
    random: () => 0.5,
    retry: { baseMs: 10, maxDelayMs: 200 },
    flushIntervalMs: 20,
    maxBatchEvents: 100,
    onError: () => undefined,
  });
  for (let i = 0; i < 200; i++) tracker.track('offline', { i }, { id: `e${i}` });
  for (let s = 0; s < 10 && delivered.length < 200; s++) await clock.advance(1000);
  expect(tracker.stats()).toMatchObject({ sent: 200, queued: 0, inFlight: 0 });
  expect(new Set(delivered).size).toBe(200);
  await tracker.close(0);
});
