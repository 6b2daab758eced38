// The seam a Worker invocation reads its tracker's leftovers through (src/outbox-records.ts),
// checked against the real outbox writing to a real memory storage: if the core changes how it
// lays chunks out, this fails here rather than as events silently missing from a spill.
import { describe, expect, it } from 'vitest';
import { serializeEvent } from '../../src/event.js';
import { createOutbox } from '../../src/outbox.js';
import { readOutboxRecords } from '../../src/outbox-records.js';
import { createMemoryStorage } from '../../src/storage/memory.js';

const event = (i: number) => {
  const id = `e${i}`;
  const [json, bytes] = serializeEvent(id, 'click', 1000 + i, 'src', undefined, { i }, 32_768);
  return { id, name: 'click', sourceId: 'src', stream: '', json, bytes, seq: i };
};

describe('readOutboxRecords', () => {
  it('lists every record the outbox holds, in arrival order, across chunks and ticks', async () => {
    const map = new Map<string, string>();
    const storage = createMemoryStorage(map);
    let time = 1;
    const outbox = createOutbox(storage, { writerId: 'w', now: () => time++, onError: () => {}, onCorrupt: () => {}, chunkEvents: 2 });
    const events = Array.from({ length: 5 }, (_, i) => event(i));
    for (const e of events.slice(0, 3)) outbox.append(e);
    await outbox.idle();
    for (const e of events.slice(3)) outbox.append(e);
    await outbox.idle();
    expect([...map.keys()].filter((key) => key.startsWith('c:')).length).toBe(3); // the seam is exercised across chunks
    const records = await readOutboxRecords(storage);
    expect(records.map((record) => record.id)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
    expect(records[2]).toEqual({ id: 'e2', name: 'click', timestamp: 1002, sourceId: 'src', properties: { i: 2 } });

    outbox.remove([events[1]!, events[3]!]); // acknowledged: gone from storage, and from the list
    await outbox.idle();
    expect((await readOutboxRecords(storage)).map((record) => record.id)).toEqual(['e0', 'e2', 'e4']);
  });

  it('leaves out what is not an outbox chunk, and a torn chunk, without throwing', async () => {
    const storage = createMemoryStorage(new Map([
      ['rules', '[]'],
      ['l:lease', '{}'],
      ['c:1', '[{"id":"a","name":"n","timestamp":1}]'],
      ['c:2', '[{"id":"b"'],
      ['c:3', '{"not":"an array"}'],
    ]));
    expect((await readOutboxRecords(storage)).map((record) => record.id)).toEqual(['a']);
  });
});
