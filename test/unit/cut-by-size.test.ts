import { describe, expect, it } from 'vitest';
import { cutBySize, joinedBytes, type SizeLimit } from '../../src/cut-by-size.js';

// Items are their own sizes; groups are shown as arrays of sizes.
const cut = (sizes: number[], limit: SizeLimit<number>, first?: boolean) => cutBySize(sizes, (n) => n, limit, first);

describe('cutBySize, the one size cutter', () => {
  const all = Infinity;
  const cases: [string, number[], SizeLimit<number>, boolean | undefined, number[][]][] = [
    ['nothing to cut', [], { maxBytes: 10, maxCount: all }, undefined, []],
    ['all fit one group', [3, 3, 4], { maxBytes: 10, maxCount: all }, undefined, [[3, 3, 4]]],
    ['split at the byte limit, in order', [4, 4, 4, 4], { maxBytes: 10, maxCount: all }, undefined, [[4, 4], [4, 4]]],
    ['exactly at the limit fits', [6, 4], { maxBytes: 10, maxCount: all }, undefined, [[6, 4]]],
    ['one byte over closes the group', [6, 5], { maxBytes: 10, maxCount: all }, undefined, [[6], [5]]],
    ['count limit', [1, 1, 1, 1, 1], { maxBytes: 100, maxCount: 2 }, undefined, [[1, 1], [1, 1], [1]]],
    ['count and bytes: whichever comes first', [3, 3, 3, 3], { maxBytes: 7, maxCount: 3 }, undefined, [[3, 3], [3, 3]]],
    ['an oversize item goes alone by default', [2, 20, 2], { maxBytes: 10, maxCount: all }, undefined, [[2], [20], [2]]],
    ['stopAtOversize ends the cut before it', [2, 20, 2], { maxBytes: 10, maxCount: all, stopAtOversize: true }, undefined, [[2]]],
    ['stopAtOversize on the first item: nothing', [20, 2], { maxBytes: 10, maxCount: all, stopAtOversize: true }, undefined, []],
    ['stopAtOversize lets an item that fits alone start a group', [6, 6], { maxBytes: 10, maxCount: all, stopAtOversize: true }, undefined, [[6], [6]]],
    ['first: only the first group', [4, 4, 4, 4], { maxBytes: 10, maxCount: all }, true, [[4, 4]]],
    ['first with a count limit', [1, 1, 1], { maxBytes: 10, maxCount: 1 }, true, [[1]]],
    ['first with an oversize item alone', [20, 1], { maxBytes: 10, maxCount: all }, true, [[20]]],
    ['skip leaves items out of the group', [1, 2, 3, 4], { maxBytes: 100, maxCount: all, skip: (n) => n % 2 === 0 }, undefined, [[1, 3]]],
    ['skip sees the group so far', [1, 2, 3], { maxBytes: 100, maxCount: all, skip: (n, group) => group.length > 0 && n === 3 }, undefined, [[1, 2]]],
    ['a skipped item does not count against the limit', [5, 9, 5], { maxBytes: 10, maxCount: all, skip: (n) => n === 9 }, undefined, [[5, 5]]],
  ];
  it.each(cases)('%s', (_name, sizes, limit, first, expected) => {
    expect(cut(sizes, limit, first)).toEqual(expected);
  });

  it('with first, reads no further than the item that closed the group', () => {
    const read: number[] = [];
    function* sizes() {
      for (let i = 0; i < 1000; i++) {
        read.push(i);
        yield 4;
      }
    }
    expect(cutBySize(sizes(), (n) => n, { maxBytes: 10, maxCount: Infinity }, true)).toEqual([[4, 4]]);
    expect(read).toEqual([0, 1, 2]);
    read.length = 0;
    cutBySize(sizes(), (n) => n, { maxBytes: 100, maxCount: 2 }, true);
    expect(read).toEqual([0, 1]); // a full count closes without reading on
  });
});

describe('the cutter as its four users weigh events: JSON plus the comma that joins it (joinedBytes)', () => {
  const event = (bytes: number) => ({ bytes });
  // A body of n events weighs their sum plus n-1 commas; with maxBytes + 1 the last comma is free.
  const cases: [string, number[], number, number[]][] = [
    ['three of 3 bytes make an 11-byte body: over 10', [3, 3, 3], 10, [2, 1]],
    ['3 + 3 + 2 with two commas is exactly 10', [3, 3, 2], 10, [3]],
    ['one event exactly at the limit', [10], 10, [1]],
  ];
  it.each(cases)('%s', (_name, sizes, maxBody, groupLengths) => {
    const groups = cutBySize(sizes.map(event), joinedBytes, { maxBytes: maxBody + 1, maxCount: Infinity });
    expect(groups.map((group) => group.length)).toEqual(groupLengths);
  });
});
