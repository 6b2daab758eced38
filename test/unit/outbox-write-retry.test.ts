// A failed write of the durable outbox is written again by itself, after a bounded backoff (sim
// seed -579417675: a tab that appended nothing after its failed tick never wrote that chunk, and
// its 20 events were lost uncounted). Storage that keeps failing is tried a bounded number of times.
import { describe, expect, it } from 'vitest';
import { serializeEvent } from '../../src/event.js';
import { createTracker, type SendOutcome, type WireBatch } from '../../src/index.js';
import { createOutbox, type StoredEvent } from '../../src/outbox.js';
import { createMemoryStorage } from '../../src/storage/memory.js';
import type { StorageAdapter } from '../../src/storage/storage.js';
import { manualTimers } from './manual-timers.js';

function event(id: string, seq: number): StoredEvent {
  const [json, bytes] = serializeEvent(id, 'page_view', 1_700_000_000_000, 's', '', undefined, 65_536);
  return { id, name: 'page_view', sourceId: 's', stream: '', json, bytes, seq };
}



/** A memory adapter whose writes fail while `failing` says so; `attempts` holds the time of each set. */
function scripted(map: Map<string, string>, now: () => number, failing: (attempt: number) => boolean) {
  const inner = createMemoryStorage(map);
  const attempts: number[] = [];
  const adapter: StorageAdapter = {
    ...inner,
    set(key, value) {
      attempts.push(now());
      return failing(attempts.length) ? Promise.reject(new Error('quota')) : inner.set(key, value);
    },
  };
  return { adapter, attempts };
}

function outboxOn(clock: ReturnType<typeof manualTimers>, adapter: StorageAdapter) {
  const errors: unknown[] = [];
  const box = createOutbox(adapter, {
    writerId: 'w',
    now: clock.now,
    onError: (error) => errors.push(error),
    onCorrupt: () => undefined,
    retry(delayMs, write) {
      clock.timers.setTimeout(write, delayMs);
    },
  });
  return { box, errors };
}

const chunkCount = (map: Map<string, string>) => [...map.keys()].filter((key) => key.startsWith('c:')).length;

describe('a failed outbox write is retried by itself', () => {
  it('a write that fails once, then nothing else happens: written 100 ms later', async () => {
    const clock = manualTimers({ start: 1_700_000_000_000, settleTicks: 3 });
    const map = new Map<string, string>();
    const { adapter, attempts } = scripted(map, clock.now, (n) => n === 1);
    const { box, errors } = outboxOn(clock, adapter);
    const start = clock.now();
    box.append(event('a', 1));
    await clock.advance(0);
    expect(attempts).toEqual([start]);
    expect(chunkCount(map)).toBe(0);
    await clock.advance(100);
    expect(chunkCount(map)).toBe(1);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]! - start).toBe(100);
    expect(errors).toHaveLength(1); // one report for the streak
    // Written: nothing more is tried.
    await clock.advance(10_000);
    expect(attempts).toHaveLength(2);
    expect(clock.pending.size).toBe(0);
  });

  it('storage failing for 2 minutes: a bounded number of tries per second, never given up', async () => {
    const clock = manualTimers({ start: 1_700_000_000_000, settleTicks: 3 });
    const map = new Map<string, string>();
    const start = clock.now();
    const { adapter, attempts } = scripted(map, clock.now, () => clock.now() < start + 120_000);
    const { box, errors } = outboxOn(clock, adapter);
    box.append(event('a', 1));
    for (let s = 0; s < 120; s++) await clock.advance(1000);
    const perSecond = Array.from({ length: 120 }, (_, s) => attempts.filter((t) => t >= start + s * 1000 && t < start + (s + 1) * 1000).length);
    // The first try, then retries 100 ms after the first failure, doubling to 51.2 s: a spin
    // would show hundreds a second, and a storage broken for hours costs a wake-up a minute.
    expect(attempts.map((t) => t - start)).toEqual([0, 100, 300, 700, 1500, 3100, 6300, 12_700, 25_500, 51_100, 102_300]);
    expect(perSecond[0]).toBe(4);
    for (const count of perSecond.slice(1)) expect(count).toBeLessThanOrEqual(1);
    expect(errors).toHaveLength(1);
    expect(chunkCount(map)).toBe(0);
    // Healthy again: written within the longest backoff (51.2 s).
    await clock.advance(51_200);
    expect(chunkCount(map)).toBe(1);
    await box.idle();
  });
});

describe('the tracker owns the retry timer', () => {
  it('a tracker whose storage writes fail tries again while open, and leaves no timer after close()', async () => {
    const clock = manualTimers({ start: 1_700_000_000_000, settleTicks: 3 });
    const map = new Map<string, string>();
    const { adapter, attempts } = scripted(map, clock.now, () => true);
    const transport = { send: async (_batch: WireBatch): Promise<SendOutcome> => ({ kind: 'ok', status: 200 }) };
    const tracker = createTracker({ transport, storage: adapter, now: clock.now, timers: clock.timers, onError: () => undefined });
    tracker.track('a');
    await clock.advance(0);
    const first = attempts.length;
    expect(first).toBeGreaterThan(0);
    // Nothing appended: only the retry timer writes again.
    await clock.advance(5000);
    const whileOpen = attempts.length - first;
    expect(whileOpen).toBeGreaterThanOrEqual(3);
    expect(whileOpen).toBeLessThanOrEqual(10);
    const closing = tracker.close(1000);
    await clock.advance(1000);
    await closing;
    expect(clock.pending.size).toBe(0);
    const atClose = attempts.length;
    await clock.advance(60_000);
    expect(attempts.length).toBe(atClose);
  });
});
