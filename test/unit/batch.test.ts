import { describe, expect, it } from 'vitest';
import { cutBatch, orderingKey } from '../../src/batch.js';
import type { QueuedEvent } from '../../src/event.js';

const event = (id: string, bytes = 10, sourceId = 's', stream = ''): QueuedEvent => ({ id, name: 'e', sourceId, stream, json: '', bytes, seq: 0 });
const ids = (events: QueuedEvent[]) => events.map((e) => e.id);

describe('cutBatch', () => {
  it.each([
    { name: 'stops at maxEvents', limits: { maxEvents: 2, maxBytes: 1e6 }, events: [event('a'), event('b'), event('c')], batch: ['a', 'b'] },
    { name: 'stops before exceeding maxBytes (commas counted)', limits: { maxEvents: 100, maxBytes: 22 }, events: [event('a'), event('b'), event('c')], batch: ['a', 'b'] },
    { name: 'sends one oversized event alone', limits: { maxEvents: 100, maxBytes: 5 }, events: [event('big', 50), event('b')], batch: ['big'] },
    { name: 'never mixes streams: takes the first stream', limits: { maxEvents: 100, maxBytes: 1e6 }, events: [event('a', 10, 's', 'x'), event('b', 10, 't', 'y'), event('c', 10, 'u', 'x')], batch: ['a', 'c'] },
    { name: 'empty input, empty batch', limits: { maxEvents: 10, maxBytes: 100 }, events: [], batch: [] },
  ])('$name', ({ limits, events, batch }) => {
    expect(ids(cutBatch(events, limits, new Set()))).toEqual(batch);
  });

  it('skips sources that have a batch in flight, so each source stays in order', () => {
    const events = [event('a1', 10, 'a'), event('b1', 10, 'b'), event('a2', 10, 'a'), event('c1', 10, 'c')];
    const busy = new Set([orderingKey({ stream: '', sourceId: 'a' })]);
    expect(ids(cutBatch(events, { maxEvents: 10, maxBytes: 1e6 }, busy))).toEqual(['b1', 'c1']);
  });

  it('orders per stream: the same source in two streams is two keys', () => {
    expect(orderingKey({ stream: 'x', sourceId: 's' })).not.toBe(orderingKey({ stream: 'y', sourceId: 's' }));
  });
});
