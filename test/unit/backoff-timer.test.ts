// Regression (issue 9, "nothing stalls"; found in CI: delivery.test.ts "refuses connections" in
// Node, durability.test.ts "collector down" in Firefox, about 1 run in 10): the pump read the clock
// just before the queue's pause ended and started nothing; the timer then read it again, just
// after, found the pause over and armed nothing. With every event in a batch waiting to be retried,
// nothing woke the queue again: `inFlight` 0, `queued` 200, no request, ever.
import { expect, it } from 'vitest';
import { createTracker, type SendOutcome, type WireBatch } from '../../src/index.js';
import { manualTimers } from './manual-timers.js';

it('a pause that ends between the pump reading the clock and the timer reading it still wakes the queue', async () => {
  // The timer's own read, then the pump's, lag: the third read (where the timer is armed) does not.
  const clock = manualTimers({ lagReads: 2 });
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
