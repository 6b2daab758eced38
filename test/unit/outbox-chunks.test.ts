// How the outbox cuts a tick's events into chunks (outbox.ts writeTick): at most `chunkEvents`
// events and `chunkBytes` bytes each, in arrival order; and what a tracker asks for (up to four
// batches a chunk), checked on a real memory storage.
import { describe, expect, it } from 'vitest';
import { createTracker } from '../../src/create-tracker.js';
import { serializeEvent } from '../../src/event.js';
import { createOutbox } from '../../src/outbox.js';
import { createMemoryStorage } from '../../src/storage/memory.js';

const event = (i: number, pad = 0) => {
  const id = `e${i}`;
  const [json, bytes] = serializeEvent(id, 'click', 1000 + i, 'src', undefined, { i, pad: 'x'.repeat(pad) }, 32_768);
  return { id, name: 'click', sourceId: 'src', stream: '', json, bytes, seq: i };
};

const chunksOf = (map: Map<string, string>) =>
  [...map.keys()].filter((key) => key.startsWith('c:')).sort().map((key) => (JSON.parse(map.get(key)!) as { id: string }[]).map((record) => record.id));

describe('outbox chunks', () => {
  it('cuts one tick into chunks of at most chunkEvents, in order', async () => {
    const map = new Map<string, string>();
    const outbox = createOutbox(createMemoryStorage(map), { writerId: 'w', now: () => 1, onError: () => {}, onCorrupt: () => {}, chunkEvents: 4 });
    for (let i = 0; i < 10; i++) outbox.append(event(i));
    await outbox.idle();
    expect(chunksOf(map)).toEqual([['e0', 'e1', 'e2', 'e3'], ['e4', 'e5', 'e6', 'e7'], ['e8', 'e9']]);
  });

  it('starts another chunk before one would pass chunkBytes; an event larger than that has one of its own', async () => {
    const map = new Map<string, string>();
    const small = Array.from({ length: 6 }, (_, i) => event(i));
    const big = event(6, 2000);
    const chunkBytes = 3 * (small[0]!.bytes + 1);
    const outbox = createOutbox(createMemoryStorage(map), { writerId: 'w', now: () => 1, onError: () => {}, onCorrupt: () => {}, chunkEvents: 100, chunkBytes });
    for (const e of [...small.slice(0, 4), big, ...small.slice(4)]) outbox.append(e);
    await outbox.idle();
    expect(chunksOf(map)).toEqual([['e0', 'e1', 'e2'], ['e3'], ['e6'], ['e4', 'e5']]);
    for (const value of [...map.entries()].filter(([key]) => key.startsWith('c:')).map(([, text]) => text)) {
      const records = JSON.parse(value) as unknown[];
      if (records.length > 1) expect(value.length - 2).toBeLessThanOrEqual(chunkBytes);
    }
  });

  it('a tracker writes chunks of up to four batches: a burst takes a quarter of the writes', async () => {
    const map = new Map<string, string>();
    const tracker = createTracker({
      endpoint: 'http://127.0.0.1:9/unused',
      storage: createMemoryStorage(map),
      maxBatchEvents: 10,
      transport: { send: () => new Promise(() => {}) },
      coordinateTabs: false,
    });
    for (let i = 0; i < 95; i++) tracker.track('click', { i });
    for (let i = 0; i < 200 && chunksOf(map).flat().length < 95; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    const chunks = chunksOf(map);
    expect(chunks.flat()).toHaveLength(95);
    expect(chunks.map((chunk) => chunk.length)).toEqual([40, 40, 15]);
    await tracker.close(0);
  });
});
