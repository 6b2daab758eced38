import { describe, expect, it } from 'vitest';
import { cutBySize, type SizeLimit } from '../../src/cut-by-size.js';

// Items are their own sizes; groups are shown as arrays of sizes.
const cut = (sizes: number[], limit: SizeLimit<number>, first?: boolean) => cutBySize(sizes, (n) => n, limit, first);

describe('cutBySize, the one size cutter', () => {
  const cases: [string, number[], SizeLimit<number>, boolean | undefined, number[][]][] = [
    ['nothing to cut', [], { maxBytes: 10 }, undefined, []],
    ['all fit one group', [3, 3, 4], { maxBytes: 10 }, undefined, [[3, 3, 4]]],
    ['split at the byte limit, in order', [4, 4, 4, 4], { maxBytes: 10 }, undefined, [[4, 4], [4, 4]]],
    ['joins count between items, not before the first', [3, 3, 2], { maxBytes: 10, joinBytes: 1 }, undefined, [[3, 3, 2]]],
    ['joins push the third item out', [3, 3, 3], { maxBytes: 10, joinBytes: 1 }, undefined, [[3, 3], [3]]],
    ['the base counts once per group', [3, 3, 3], { maxBytes: 10, baseBytes: 4 }, undefined, [[3, 3], [3]]],
    ['count limit', [1, 1, 1, 1, 1], { maxBytes: 100, maxCount: 2 }, undefined, [[1, 1], [1, 1], [1]]],
    ['an oversize item goes alone by default', [2, 20, 2], { maxBytes: 10 }, undefined, [[2], [20], [2]]],
    ['stopAtOversize ends the cut before it', [2, 20, 2], { maxBytes: 10, stopAtOversize: true }, undefined, [[2]]],
    ['stopAtOversize on the first item: nothing', [20, 2], { maxBytes: 10, stopAtOversize: true }, undefined, []],
    ['stopAtOversize counts the base', [7], { maxBytes: 10, baseBytes: 4, stopAtOversize: true }, undefined, []],
    ['exactly at the limit fits', [5, 4], { maxBytes: 10, joinBytes: 1 }, undefined, [[5, 4]]],
    ['first: only the first group', [4, 4, 4, 4], { maxBytes: 10 }, true, [[4, 4]]],
    ['first with a count limit', [1, 1, 1], { maxBytes: 10, maxCount: 1 }, true, [[1]]],
    ['skip leaves items out of the group', [1, 2, 3, 4], { maxBytes: 100, skip: (n) => n % 2 === 0 }, undefined, [[1, 3]]],
    ['skip sees the group so far', [1, 2, 3], { maxBytes: 100, skip: (n, group) => group.length > 0 && n === 3 }, undefined, [[1, 2]]],
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
    expect(cutBySize(sizes(), (n) => n, { maxBytes: 10 }, true)).toEqual([[4, 4]]);
    expect(read).toEqual([0, 1, 2]);
    read.length = 0;
    cutBySize(sizes(), (n) => n, { maxBytes: 100, maxCount: 2 }, true);
    expect(read).toEqual([0, 1]); // a full count closes without reading on
  });
});
