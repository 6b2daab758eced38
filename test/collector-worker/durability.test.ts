// outbox/collector's promises in workerd: exact de-duplication and feed cursors across a restart
// of every partition on the same persisted state (abortAllDurableObjects keeps the SQLite data),
// and one source's events in one partition, in the order tracked.
import { abortAllDurableObjects, reset } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { partitionOf } from 'outbox/collector';
import { batchBody, collector, event, post, readAll } from './harness.js';

beforeEach(async () => {
  await reset();
});

describe('across a restart', () => {
  it('de-duplicates exactly and the cursors given before it continue after it', async () => {
    const call = collector();
    const first = Array.from({ length: 30 }, (_, i) => event({ sourceId: `s${i % 7}` }));
    expect((await post(call, batchBody(first), { rid: 'one' })).json).toMatchObject({ accepted: 30, duplicates: 0 });
    const before = await readAll(call);
    expect(before.events).toHaveLength(30);

    await abortAllDurableObjects();

    // The same batch again (a tracker's retry after a lost reply) and some new events.
    const second = Array.from({ length: 10 }, (_, i) => event({ sourceId: `s${i % 7}` }));
    expect((await post(call, batchBody([...first, ...second]), { rid: 'two' })).json).toMatchObject({ accepted: 10, duplicates: 30 });
    const after = await readAll(call, 4, before.cursors);
    expect(after.events.map((e) => e.data!.id).sort()).toEqual(second.map((e) => e.id).sort());
    // And from the start: every event exactly once.
    const everything = await readAll(call);
    expect(everything.events.map((e) => e.data!.id).sort()).toEqual([...first, ...second].map((e) => e.id).sort());
  });

  it('keeps its data when a new collector (a deploy) comes up on the same objects', async () => {
    await post(collector(), batchBody([event({ id: 'kept', sourceId: 'k' })]));
    await abortAllDurableObjects();
    const next = collector({ rules: [{ name: 'other', ttlMs: 1 }] });
    expect((await post(next, batchBody([event({ id: 'kept', sourceId: 'k' })]))).json).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await readAll(next)).events.map((e) => e.data!.id)).toEqual(['kept']);
  });
});

describe('partitions', () => {
  it('put one source’s events in one partition, in the order tracked, over many batches', async () => {
    const call = collector();
    const sources = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    const tracked = new Map(sources.map((s) => [s, [] as string[]]));
    for (let round = 0; round < 8; round++) {
      const batch = sources.flatMap((sourceId) => [0, 1].map(() => event({ sourceId })));
      for (const e of batch) tracked.get(e.sourceId as string)!.push(e.id);
      expect((await post(call, batchBody(batch))).json).toMatchObject({ accepted: batch.length });
    }
    const { events } = await readAll(call);
    expect(events).toHaveLength(12 * 16);
    for (const sourceId of sources) {
      const mine = events.filter((e) => e.data!.sourceId === sourceId);
      expect(new Set(mine.map((e) => e.partition))).toEqual(new Set([partitionOf(sourceId, 4)]));
      expect(mine.map((e) => e.data!.id)).toEqual(tracked.get(sourceId));
    }
    // Sources spread: with 12 sources, more than one partition holds events.
    expect(new Set(events.map((e) => e.partition)).size).toBeGreaterThan(1);
  });

  it('a batch over several partitions commits each; a retry reads every event as a duplicate', async () => {
    const call = collector({ partitionCount: 16 });
    const batch = Array.from({ length: 64 }, (_, i) => event({ sourceId: `p${i}` }));
    expect((await post(call, batchBody(batch))).json).toEqual({ accepted: 64, duplicates: 0 });
    expect((await post(call, batchBody(batch))).json).toEqual({ accepted: 0, duplicates: 64 });
    expect((await readAll(call, 16)).events).toHaveLength(64);
  });
});
