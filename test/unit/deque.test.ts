import { describe, expect, it } from 'vitest';
import { createDeque } from '../../src/deque.js';

type Item = { id: number; bytes: number; gone?: boolean; pinned?: boolean };
const item = (id: number, bytes = 10, pinned = false): Item => ({ id, bytes, pinned });
const ids = (items: Iterable<Item>) => [...items].map((i) => i.id);
const any = () => true;

describe('deque', () => {
  it.each([
    { name: 'by event count', limits: { maxEvents: 3, maxBytes: 1e9 }, sizes: [10, 10, 10, 10, 10], kept: [2, 3, 4], evicted: [0, 1] },
    { name: 'by bytes', limits: { maxEvents: 100, maxBytes: 25 }, sizes: [10, 10, 10], kept: [1, 2], evicted: [0] },
    { name: 'by bytes, one big push evicts several', limits: { maxEvents: 100, maxBytes: 30 }, sizes: [10, 10, 10, 25], kept: [3], evicted: [0, 1, 2] },
    { name: 'nothing when within limits', limits: { maxEvents: 5, maxBytes: 100 }, sizes: [10, 10], kept: [0, 1], evicted: [] },
  ])('evicts the oldest first $name', ({ limits, sizes, kept, evicted }) => {
    const deque = createDeque<Item>(limits);
    const out: Item[] = [];
    sizes.forEach((bytes, id) => out.push(...deque.push(item(id, bytes), any)));
    expect(ids(deque.values())).toEqual(kept);
    expect(ids(out)).toEqual(evicted);
    expect(deque.size).toBe(kept.length);
    expect(deque.bytes).toBe(kept.reduce((n, id) => n + sizes[id]!, 0));
    expect(out.every((i) => i.gone)).toBe(true);
  });

  it('skips items that may not be evicted (in flight) and evicts the next oldest', () => {
    const deque = createDeque<Item>({ maxEvents: 2, maxBytes: 1e9 });
    const canEvict = (i: Item) => !i.pinned;
    deque.push(item(0, 10, true), canEvict);
    deque.push(item(1), canEvict);
    const evicted = deque.push(item(2), canEvict);
    expect(ids(evicted)).toEqual([1]);
    expect(ids(deque.values())).toEqual([0, 2]);
  });

  it('removes from anywhere in O(1) and keeps counters right', () => {
    const deque = createDeque<Item>({ maxEvents: 10, maxBytes: 1e9 });
    const items = [0, 1, 2, 3].map((id) => item(id));
    items.forEach((i) => deque.push(i, any));
    deque.remove(items[2]!);
    deque.remove(items[2]!); // twice is harmless
    deque.remove(items[0]!);
    expect(ids(deque.values())).toEqual([1, 3]);
    expect(deque.first()?.id).toBe(1);
    expect(deque.size).toBe(2);
    expect(deque.bytes).toBe(20);
  });

  it('prepends older items in front, evicting the oldest of all when over the cap', () => {
    const deque = createDeque<Item>({ maxEvents: 3, maxBytes: 1e9 });
    deque.push(item(10), any);
    deque.push(item(11), any);
    const evicted = deque.prepend([item(1), item(2)], any);
    expect(ids(evicted)).toEqual([1]);
    expect(ids(deque.values())).toEqual([2, 10, 11]);
  });

  it('compacts as the head advances without losing order', () => {
    const deque = createDeque<Item>({ maxEvents: 1e6, maxBytes: 1e12 });
    const items = Array.from({ length: 5000 }, (_, i) => item(i, 1));
    items.forEach((i) => deque.push(i, any));
    items.slice(0, 4000).forEach((i) => deque.remove(i));
    expect(deque.size).toBe(1000);
    expect(deque.first()?.id).toBe(4000);
    expect(ids(deque.values())).toEqual(items.slice(4000).map((i) => i.id));
  });
});
