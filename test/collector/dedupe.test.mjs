import { describe, expect, it } from 'vitest';
import { createIdWindow } from '../../demo/collector/dedupe.mjs';
import { batchBody, event, post, start } from './harness.mjs';

describe('createIdWindow', () => {
  it('reports a repeated id as a duplicate', () => {
    const window = createIdWindow(3);
    expect([window.add('a'), window.add('b'), window.add('a')]).toEqual([true, true, false]);
  });

  it('forgets the oldest id first once full, and stays at capacity', () => {
    const window = createIdWindow(2);
    window.add('a');
    window.add('b');
    window.add('c');
    expect([window.has('a'), window.has('b'), window.has('c'), window.size]).toEqual([false, true, true, 2]);
    window.add('d');
    window.add('e');
    expect([window.has('b'), window.has('c'), window.has('d'), window.has('e')]).toEqual([false, false, true, true]);
  });

  it('a duplicate does not refresh its place in the window', () => {
    const window = createIdWindow(2);
    window.add('a');
    window.add('b');
    window.add('a');
    window.add('c');
    expect(window.has('a')).toBe(false);
  });

  it.each([0, -1, 1.5, NaN])('refuses capacity %s', (capacity) => {
    expect(() => createIdWindow(capacity)).toThrow(TypeError);
  });
});

describe('de-duplication over HTTP', () => {
  it('stores an event id once across requests and within one request', async () => {
    const collector = await start();
    const [a, b, c] = [event(), event(), event()];

    const first = await post(collector, batchBody([a, b, a]), { query: { rid: 'r1' } });
    const second = await post(collector, batchBody([b, c]), { query: { rid: 'r2' } });

    expect(first.json).toEqual({ accepted: 2, duplicates: 1 });
    expect(second.json).toEqual({ accepted: 1, duplicates: 1 });
    expect(collector.events().map((e) => e.id)).toEqual([a.id, b.id, c.id]);
    expect(collector.stats()).toMatchObject({ accepted: 3, duplicates: 2, duplicateRequests: 0 });
  });

  it('counts a repeated rid as a duplicate request but still stores its new events', async () => {
    const collector = await start();
    const [a, b] = [event(), event()];

    await post(collector, batchBody([a]), { query: { rid: 'same' } });
    const retry = await post(collector, batchBody([a, b]), { query: { rid: 'same' } });

    expect(retry.json).toEqual({ accepted: 1, duplicates: 1 });
    expect(collector.stats()).toMatchObject({ requests: 2, duplicateRequests: 1, accepted: 2 });
  });

  it('a failed request does not mark its rid or ids as seen', async () => {
    const collector = await start({ faults: { rejectStatus: 503 } });
    const a = event();
    expect((await post(collector, batchBody([a]), { query: { rid: 'r' } })).status).toBe(503);
    collector.clearFaults();

    const retry = await post(collector, batchBody([a]), { query: { rid: 'r' } });
    expect(retry.json).toEqual({ accepted: 1, duplicates: 0 });
    expect(collector.stats().duplicateRequests).toBe(0);
  });

  it('remembers only dedupeWindow ids, then accepts a forgotten one again', async () => {
    const collector = await start({ dedupeWindow: { events: 2, requests: 1 } });
    const [a, b, c] = [event(), event(), event()];
    await post(collector, batchBody([a, b, c]), { query: { rid: 'r1' } });
    await post(collector, batchBody([]), { query: { rid: 'r2' } });

    const again = await post(collector, batchBody([a, c]), { query: { rid: 'r1' } });
    expect(again.json).toEqual({ accepted: 1, duplicates: 1 });
    expect(collector.stats().duplicateRequests).toBe(0);
  });

  it('reset() forgets events, ids and stats', async () => {
    const collector = await start();
    const a = event();
    await post(collector, batchBody([a]), { query: { rid: 'r' } });
    collector.reset();

    expect(collector.events()).toEqual([]);
    expect(collector.stats()).toMatchObject({ requests: 0, accepted: 0, lastEventAt: null });
    expect((await post(collector, batchBody([a]), { query: { rid: 'r' } })).json).toEqual({ accepted: 1, duplicates: 0 });
  });
});
