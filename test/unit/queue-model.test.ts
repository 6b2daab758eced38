// The queue model (issue 11): one representation of each fact. `unbatched` always equals the
// entries in memory that no batch holds, whatever the order of queueing, cutting, flying,
// evicting and removing; an entry in flight is never evicted and never leaves its batch.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createQueueModel, type Entry, type QueueModel } from '../../src/engine/queue-model.js';

let n = 0;
const entry = (sourceId = 's'): Entry => ({ id: `e${n}`, name: 'x', sourceId, stream: '', json: '{}', bytes: 2, seq: n++ });
const unbatchedInMemory = (model: QueueModel) => [...model.deque.values()].filter((e) => !e.batch).length;

describe('queue model', () => {
  it('counts entries no batch holds through cutting, flying, landing and retiring', () => {
    const model = createQueueModel({ maxEvents: 100, maxBytes: 10_000 });
    const events = [entry(), entry(), entry()];
    events.forEach((e) => model.add(e));
    expect(model.unbatched).toBe(3);
    const batch = model.newBatch(events.slice(0, 2));
    model.enqueueBatch(batch);
    expect(model.unbatched).toBe(1);
    expect(model.waitingBatches).toEqual([batch]);
    model.fly(batch);
    expect(model.waitingBatches).toEqual([]);
    expect(model.isFlying(events[0]!)).toBe(true);
    expect(model.flyingEvents()).toBe(2);
    model.land(batch);
    model.retire(batch);
    expect(model.deque.size).toBe(1);
    expect(model.unbatched).toBe(1);
    expect(events[0]!.gone).toBe(true);
  });

  it('a waiting batch that loses its entry gets a new request id; emptied, it leaves the line and settles', () => {
    const model = createQueueModel({ maxEvents: 100, maxBytes: 10_000 });
    const [a, b] = [entry(), entry()];
    model.add(a);
    model.add(b);
    const batch = model.newBatch([a, b]);
    model.enqueueBatch(batch);
    let settled = 0;
    batch.settled = () => settled++;
    const rid = batch.rid;
    model.unlink(a);
    expect(batch.events).toEqual([b]);
    expect(batch.rid).not.toBe(rid);
    model.unlink(b);
    expect(model.waitingBatches).toEqual([]);
    expect(settled).toBe(1);
    expect(model.unbatched).toBe(0);
  });

  it('evicts the oldest entry not in flight, out of its waiting batch', () => {
    const model = createQueueModel({ maxEvents: 2, maxBytes: 10_000 });
    const [a, b, c] = [entry('a'), entry('b'), entry('c')];
    model.add(a);
    model.add(b);
    const flying = model.newBatch([a]);
    model.fly(flying);
    model.enqueueBatch(model.newBatch([b]));
    expect(model.add(c)).toEqual([b]);
    expect(model.waitingBatches).toEqual([]);
    expect(model.isFlying(a)).toBe(true);
    expect(model.unbatched).toBe(1);
  });

  it('keeps unbatched equal to what memory holds without a batch, in any history', () => {
    type Op = { kind: 'add' | 'cut' | 'fly' | 'land' | 'unlink'; pick: number };
    const op = fc.record({ kind: fc.constantFrom<Op['kind']>('add', 'cut', 'fly', 'land', 'unlink'), pick: fc.nat(50) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.integer({ min: 1, max: 8 }), (ops, cap) => {
        const model = createQueueModel({ maxEvents: cap, maxBytes: 10_000 });
        for (const { kind, pick } of ops) {
          const live = [...model.deque.values()];
          if (kind === 'add') model.add(entry(`s${pick % 3}`));
          else if (kind === 'cut') {
            const free = live.filter((e) => !e.batch).slice(0, 1 + (pick % 3));
            if (free.length) model.enqueueBatch(model.newBatch(free));
          } else if (kind === 'fly' && model.waitingBatches.length) model.fly(model.waitingBatches[pick % model.waitingBatches.length]!);
          else if (kind === 'land' && model.flying.size) {
            const batch = [...model.flying][pick % model.flying.size]!;
            // As delivery does in the same turn: acknowledged or dropped (retired), or back in line.
            model.land(batch);
            if (pick % 2) model.retire(batch);
            else model.enqueueBatch(batch);
          } else if (kind === 'unlink' && live.length) {
            const victim = live[pick % live.length]!;
            if (!model.isFlying(victim)) model.unlink(victim);
          }
          expect(model.unbatched).toBe(unbatchedInMemory(model));
          expect(model.deque.size).toBeLessThanOrEqual(Math.max(cap, [...model.flying].reduce((s, b) => s + b.events.length, 0)));
        }
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});
