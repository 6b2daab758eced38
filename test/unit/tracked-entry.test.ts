import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TrackedEntry } from '../../src/engine/tracked-entry.js';
import { createIdGenerator, serializeEvent } from '../../src/event.js';
import { createTracker } from '../../src/create-tracker.js';

// A tracked entry keeps no id of its own: it reads it back from the head of its JSON. These check
// that the reading answers the id serializeEvent wrote, for every id track() accepts.
const entryOf = (id: string, name: string, generated?: boolean): TrackedEntry => {
  const [json, bytes] = serializeEvent(id, name, 1000, 'src', undefined, { a: 1 }, 32_768, generated);
  return new TrackedEntry(name, 'src', '', json, bytes, 0);
};

describe('TrackedEntry', () => {
  it('reads back any valid id, whatever it holds (quotes, backslashes, the name separator, unicode)', () => {
    const ids = fc.oneof(
      fc.string({ minLength: 1, maxLength: 256, unit: 'binary' }),
      fc.constantFrom('","name":"x', 'a\\', '\\"', '"', '\u2028', '\ud800', 'id","name":"e","timestamp":1}'),
    );
    fc.assert(
      fc.property(ids, fc.string({ minLength: 1, maxLength: 40 }), (id, name) => {
        const entry = entryOf(id, name);
        expect(entry.id).toBe(JSON.parse(JSON.stringify(id)));
        expect(JSON.parse(entry.json).id).toBe(entry.id);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes a generated id exactly as JSON.stringify would', () => {
    const nextId = createIdGenerator();
    for (let i = 0; i < 2000; i++) {
      const id = nextId();
      const quoted = entryOf(id, 'click', true);
      expect(quoted.json).toBe(entryOf(id, 'click', false).json);
      expect(quoted.id).toBe(id);
    }
  });

  it('reuses the last name only while it is the same name', () => {
    expect(JSON.parse(entryOf('a', 'one').json).name).toBe('one');
    expect(JSON.parse(entryOf('b', 'two "quoted"').json).name).toBe('two "quoted"');
    expect(JSON.parse(entryOf('c', 'one').json).name).toBe('one');
  });

  it('holds every field it gets before delivery from birth (no shape change per event)', () => {
    const entry = entryOf('x', 'e');
    expect(Object.keys(entry).sort()).toEqual(['batch', 'bytes', 'chunk', 'json', 'name', 'seq', 'sourceId', 'stored', 'stream']);
    expect([entry.batch, entry.chunk, entry.stored]).toEqual([undefined, undefined, undefined]);
  });

  it('is what track() queues: the events sent carry the ids they were tracked with', async () => {
    const bodies: string[] = [];
    const tracker = createTracker({
      endpoint: 'http://127.0.0.1:9/unused',
      storage: false,
      transport: { send: async (batch) => (bodies.push(...batch.events.map((e) => `${e.id} ${e.json}`)), { kind: 'ok', status: 200 }) },
    });
    tracker.track('a', { n: 1 }, { id: 'mine "1"' });
    tracker.track('b', { n: 2 });
    await tracker.flush();
    expect(bodies).toHaveLength(2);
    const [first, second] = bodies.map((line) => [line.slice(0, line.indexOf(' {')), JSON.parse(line.slice(line.indexOf(' {') + 1)) as { id: string }] as const);
    expect(first![0]).toBe('mine "1"');
    expect(first![1].id).toBe('mine "1"');
    expect(second![0]).toBe(second![1].id);
    await tracker.close();
  });
});
