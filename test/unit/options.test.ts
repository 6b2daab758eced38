// Options are validated once, at createTracker (issue 9): a clear error naming the option, or a
// delay clamped to what a timer can wait. Before, flushIntervalMs: 3e9 fired ~850 times a
// second and timeoutMs: Infinity aborted every request.
import { describe, expect, it } from 'vitest';
import { createTracker } from '../../src/index.js';
import { maxTimerDelayMs, resolveOptions } from '../../src/options.js';

const endpoint = 'http://127.0.0.1:1/v1/batch';

describe('option validation', () => {
  it.each([
    { option: { flushIntervalMs: NaN }, message: /flushIntervalMs/ },
    { option: { flushIntervalMs: -1 }, message: /flushIntervalMs/ },
    { option: { timeoutMs: 0 }, message: /timeoutMs/ },
    { option: { timeoutMs: '5' }, message: /timeoutMs/ },
    { option: { maxBatchEvents: 1.5 }, message: /maxBatchEvents/ },
    { option: { maxQueueEvents: 0 }, message: /maxQueueEvents/ },
    { option: { concurrency: NaN }, message: /concurrency/ },
    { option: { retry: { baseMs: -1 } }, message: /retry\.baseMs/ },
    { option: { retry: 2.5 }, message: /retry\.limit/ },
    { option: { maxRetryAfterMs: -1 }, message: /maxRetryAfterMs/ },
    { option: { now: 5 }, message: /now/ },
    { option: { fetch: 'no' }, message: /fetch/ },
    { option: { timers: { setTimeout } }, message: /timers/ },
  ])('refuses $option', ({ option, message }) => {
    expect(() => createTracker({ endpoint, storage: false, ...(option as object) })).toThrow(message);
  });

  it.each([
    { option: { flushIntervalMs: 3e9 }, key: 'flushIntervalMs', value: maxTimerDelayMs },
    { option: { timeoutMs: Infinity }, key: 'timeoutMs', value: maxTimerDelayMs },
    { option: { maxRetryAfterMs: Infinity }, key: 'maxRetryAfterMs', value: maxTimerDelayMs },
    { option: { maxBatchEvents: 5000 }, key: 'maxBatchEvents', value: 1000 }, // wire.ts maxBatchEvents
    { option: { maxBatchBytes: 4 * 1024 * 1024 }, key: 'maxBatchBytes', value: 1024 * 1024 - 100 }, // wire.ts maxBodyBytes
    { option: { maxQueueEvents: Infinity }, key: 'maxQueueEvents', value: Infinity },
  ])('clamps $option', ({ option, key, value }) => {
    expect((resolveOptions({ endpoint, ...option }) as unknown as Record<string, unknown>)[key]).toBe(value);
  });

  it('defaults maxRetryAfterMs to an hour, apart from retry.maxDelayMs', () => {
    const resolved = resolveOptions({ endpoint, retry: { maxDelayMs: 100 } });
    expect(resolved.maxRetryAfterMs).toBe(3_600_000);
    expect(resolved.retry.maxDelayMs).toBe(100);
  });

  it('flushIntervalMs: 3e9 arms one timer, not one per millisecond', async () => {
    const delays: number[] = [];
    const tracker = createTracker({
      endpoint,
      storage: false,
      flushIntervalMs: 3e9,
      timers: { setTimeout: (_callback, delayMs) => (delays.push(delayMs), delays.length), clearTimeout: () => undefined },
    });
    tracker.track('a');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(delays).toEqual([maxTimerDelayMs]);
  });
});
