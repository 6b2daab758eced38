// Delivery against the real reference collector: every event exactly once (by id) through
// failures, rate limits, 413s, timeouts and refusals; drops only for counted reasons.
import { describe, expect, it, vi } from 'vitest';
import { createTracker, createMemoryStorage, type OutboxError } from '../../src/index.js';
import { eventsOf, fastRetry, useCollector } from './collector-fixture.js';

const collector = useCollector();

function tracker(extra: Partial<Parameters<typeof createTracker>[0]> = {}) {
  const errors: OutboxError[] = [];
  const t = createTracker({ endpoint: collector().endpoint, storage: false, retry: fastRetry, flushIntervalMs: 20, onError: (e) => errors.push(e), ...extra });
  return { t, errors };
}

describe('delivery', () => {
  it('delivers 10,000 events exactly once through 50 % failing requests', async () => {
    collector().setFaults({ failRate: 0.5, failStatus: 503 });
    const { t, errors } = tracker({ concurrency: 4 });
    for (let i = 0; i < 10_000; i++) t.track('load', { i }, { sourceId: `s${i % 8}` });
    expect(await t.flush(60_000)).toBe(true);
    const ids = eventsOf(collector()).map((e) => e.id);
    expect(new Set(ids).size).toBe(10_000);
    expect(collector().stats().duplicates).toBe(0);
    const stats = t.stats();
    expect(stats).toMatchObject({ tracked: 10_000, sent: 10_000, queued: 0, inFlight: 0 });
    expect(stats.retried).toBeGreaterThan(0);
    expect(Object.values(stats.dropped).every((n) => n === 0)).toBe(true);
    expect(errors.every((e) => e.code === 'retry')).toBe(true);
    await t.close();
  });

  it('keeps each source in order while batches of other sources run concurrently', async () => {
    collector().setFaults({ failRate: 0.3 });
    const { t } = tracker({ concurrency: 3, maxBatchEvents: 20 });
    for (let i = 0; i < 1500; i++) t.track('ordered', { n: Math.floor(i / 3) }, { sourceId: `src-${i % 3}` });
    expect(await t.flush(30_000)).toBe(true);
    for (const source of ['src-0', 'src-1', 'src-2']) {
      const seen = eventsOf(collector()).filter((e) => e.sourceId === source).map((e) => e.properties!.n as number);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      expect(seen).toHaveLength(500);
    }
    await t.close();
  });

  it('honours 429 Retry-After by pausing the whole queue', async () => {
    collector().setFaults({ failRate: 1, failStatus: 429, retryAfterSec: 1 });
    const { t, errors } = tracker({ retry: { baseMs: 5, maxDelayMs: 60_000 } }); // the cap must exceed Retry-After
    t.track('limited', { a: 1 });
    await collector().waitFor((c) => c.stats().requests >= 1, 5000);
    collector().clearFaults();
    t.track('limited', { a: 2 }); // must wait too: the pause is queue-wide
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(collector().stats().requests).toBe(1); // nothing sent during Retry-After
    expect(await t.flush(10_000)).toBe(true);
    // The retried batch keeps its content and request id; the later event follows it in order.
    expect(eventsOf(collector()).map((e) => e.properties!.a)).toEqual([1, 2]);
    expect(errors[0]).toMatchObject({ code: 'retry', status: 429 });
    await t.close();
  });

  it('splits batches on 413 and drops a single event the collector refuses as too large', async () => {
    collector().setFaults({ status413AboveBytes: 4000 });
    const { t, errors } = tracker({ maxBatchEvents: 100, compression: 'none' });
    for (let i = 0; i < 300; i++) t.track('split', { i, pad: 'x'.repeat(80) });
    t.track('huge', { pad: 'y'.repeat(6000) });
    expect(await t.flush(20_000)).toBe(true);
    expect(eventsOf(collector()).filter((e) => e.name === 'split')).toHaveLength(300);
    expect(t.stats().dropped.too_large).toBe(1);
    const tooLarge = errors.find((e) => e.code === 'too_large')!;
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.events.map((e) => e.name)).toEqual(['huge']);
    await t.close();
  });

  it('retries timed-out requests; the collector de-duplicates the late copies by id', async () => {
    collector().setFaults({ latencyMs: 400 });
    const { t, errors } = tracker({ timeoutMs: 100 });
    for (let i = 0; i < 50; i++) t.track('slow', { i });
    await new Promise((resolve) => setTimeout(resolve, 600));
    collector().clearFaults();
    expect(await t.flush(10_000)).toBe(true);
    expect(new Set(eventsOf(collector()).map((e) => e.id)).size).toBe(50);
    expect(errors.some((e) => e.code === 'retry' && /TimeoutError/.test(e.message))).toBe(true);
    await t.close();
  });

  it.each([400, 401, 404, 422])('drops a batch refused with %i as rejected, with the status', async (status) => {
    collector().setFaults({ rejectStatus: status });
    const { t, errors } = tracker();
    t.track('refused', { x: 1 });
    expect(await t.flush(5000)).toBe(true);
    expect(t.stats().dropped.rejected).toBe(1);
    const error = errors.find((e) => e.code === 'rejected')!;
    expect(error.status).toBe(status);
    expect(error.events[0]).toMatchObject({ name: 'refused', properties: { x: 1 } });
    expect(eventsOf(collector())).toHaveLength(0);
    await t.close();
  });

  it('survives a collector that refuses connections, then delivers everything', async () => {
    collector().setFaults({ refuseForMs: 1500 });
    const { t } = tracker();
    for (let i = 0; i < 200; i++) t.track('offline', { i });
    expect(await t.flush(15_000)).toBe(true);
    expect(new Set(eventsOf(collector()).map((e) => e.id)).size).toBe(200);
    await t.close();
  });

  it('gives up after the retry limit, counting the events as expired', async () => {
    collector().setFaults({ failRate: 1 });
    const { t, errors } = tracker({ retry: { ...fastRetry, limit: 2 } });
    t.track('doomed');
    expect(await t.flush(5000)).toBe(true);
    expect(collector().stats().requests).toBe(3);
    expect(t.stats().dropped.expired).toBe(1);
    expect(errors.at(-1)).toMatchObject({ code: 'expired', status: 503 });
    await t.close();
  });

  it('flush() resolves false on timeout and keeps the events queued', async () => {
    collector().setFaults({ failRate: 1 });
    const { t } = tracker();
    t.track('kept');
    expect(await t.flush(300)).toBe(false);
    expect(t.stats().queued).toBe(1);
    collector().clearFaults();
    expect(await t.flush(5000)).toBe(true);
    expect(eventsOf(collector())).toHaveLength(1);
    await t.close();
  });

  // Regression: close() used to resolve true while an event tracked during its flush was never sent.
  it('close() also delivers events tracked while it flushes', async () => {
    collector().setFaults({ latencyMs: 100 });
    const { t } = tracker();
    t.track('first');
    const closing = t.close(5000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    t.track('during-close');
    expect(await closing).toBe(true);
    expect(eventsOf(collector()).map((e) => e.name)).toEqual(['first', 'during-close']);
    t.track('after-close'); // refused visibly, never silently queued
    expect(t.stats().dropped.invalid).toBe(1);
  });

  it('evicts the oldest events when the queue is full, and counts them', async () => {
    collector().setFaults({ failRate: 1 });
    const { t, errors } = tracker({ maxQueueEvents: 100 });
    for (let i = 0; i < 150; i++) t.track('cap', { i });
    collector().clearFaults();
    expect(await t.flush(5000)).toBe(true);
    expect(t.stats().dropped.overflow).toBeGreaterThanOrEqual(50);
    const delivered = eventsOf(collector()).map((e) => e.properties!.i as number);
    expect(delivered).toContain(149); // the newest survive
    expect(delivered.length + t.stats().dropped.overflow).toBe(150); // nothing unaccounted for
    expect(errors.some((e) => e.code === 'overflow' && e.events.length > 0)).toBe(true);
    await t.close();
  });

  it('sends gzip above the threshold and plain below it', async () => {
    const { t } = tracker({ compressAboveBytes: 1024 });
    t.track('small');
    expect(await t.flush()).toBe(true);
    const plainBytes = collector().stats().bytesIn;
    for (let i = 0; i < 100; i++) t.track('big', { text: 'repetitive text '.repeat(4) });
    expect(await t.flush()).toBe(true);
    const stats = collector().stats();
    expect(stats.bytesInflated).toBeGreaterThan(stats.bytesIn - plainBytes);
    expect(eventsOf(collector())).toHaveLength(101);
    await t.close();
  });

  it('a second tracker over the same storage delivers what the first could not (durable queue)', async () => {
    const map = new Map<string, string>();
    collector().setFaults({ failRate: 1 });
    const writer = tracker({ storage: createMemoryStorage(map) }).t;
    for (let i = 0; i < 120; i++) writer.track('durable', { i });
    expect(await writer.close(300)).toBe(false);
    expect([...map.keys()].some((k) => k.startsWith('c:'))).toBe(true);
    // A request still in flight at close() holds a lease (its events are not re-sent while it may
    // still arrive); a process that starts later finds it settled. Wait for that, then restart.
    await vi.waitFor(() => expect([...map.keys()].filter((k) => k.startsWith('l:'))).toEqual([]), { timeout: 5000 });
    collector().clearFaults();
    const reader = tracker({ storage: createMemoryStorage(map) }).t;
    // Regression: flush() right after start resolved true before the stored backlog was even read.
    expect(await reader.flush(5000)).toBe(true);
    expect(eventsOf(collector())).toHaveLength(120);
    expect(new Set(eventsOf(collector()).map((e) => e.id)).size).toBe(120);
    await reader.close();
    expect([...map.keys()].filter((k) => k.startsWith('c:'))).toEqual([]); // acknowledged, deleted
  });
});
