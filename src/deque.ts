/** What the deque needs of an item: its size, and a flag it sets when the item leaves. */
export interface DequeItem {
  bytes: number;
  gone?: boolean;
}

/** Capacity of a {@link Deque}. */
export interface DequeLimits {
  maxEvents: number;
  maxBytes: number;
}

/** A bounded FIFO with byte accounting that evicts its oldest items first. Pure: no I/O, no time. */
export interface Deque<T extends DequeItem> {
  /** Appends an item; returns the items evicted to make room (oldest first). */
  push(item: T, canEvict: (item: T) => boolean): readonly T[];
  /** Puts older items (loaded from storage) in front, in order; returns the items evicted. */
  prepend(items: readonly T[], canEvict: (item: T) => boolean): T[];
  /** Removes an item wherever it is (acknowledged or dropped). */
  remove(item: T): void;
  /** The live items, oldest first. */
  values(): IterableIterator<T>;
  /** The oldest live item. */
  first(): T | undefined;
  readonly size: number;
  readonly bytes: number;
}

/** Creates a {@link Deque}. Removal is O(1) (a tombstone); the array compacts as the head advances. */
const noneEvicted: readonly never[] = [];

export function createDeque<T extends DequeItem>(limits: DequeLimits): Deque<T> {
  let items: T[] = [];
  let head = 0;
  let size = 0;
  let bytes = 0;
  let evicting = false;

  function remove(item: T): void {
    if (item.gone) return;
    item.gone = true;
    size--;
    bytes -= item.bytes;
    while (items[head]?.gone) head++; // past the end there is no item: the walk stops
    // Not while evict() walks the array by index: compacting under it skipped half the items
    // (20,000 loaded with a cap of 1,000 left ~10,000 in memory).
    if (!evicting) compact();
  }

  // Drops the dead head once it is most of the array.
  function compact(): void {
    if (head > 1024 && head * 2 > items.length) {
      items = items.slice(head);
      head = 0;
    }
  }

  // Evicts from the oldest end, skipping what may not go (events in flight), until within limits.
  function evict(canEvict: (item: T) => boolean): T[] {
    const evicted: T[] = [];
    evicting = true;
    for (let i = head; i < items.length && (size > limits.maxEvents || bytes > limits.maxBytes); i++) {
      const item = items[i]!;
      if (item.gone || !canEvict(item)) continue;
      remove(item);
      evicted.push(item);
    }
    evicting = false;
    compact();
    return evicted;
  }

  return {
    push(item, canEvict) {
      items.push(item);
      size++;
      bytes += item.bytes;
      // No array per push when nothing goes: push is on track()'s path.
      return size > limits.maxEvents || bytes > limits.maxBytes ? evict(canEvict) : noneEvicted;
    },
    prepend(older, canEvict) {
      items = [...older, ...items.slice(head)];
      head = 0;
      for (const item of older) {
        size++;
        bytes += item.bytes;
      }
      return evict(canEvict);
    },
    remove,
    *values() {
      for (let i = head; i < items.length; i++) if (!items[i]!.gone) yield items[i]!;
    },
    // remove() moves the head past every removed item, and nothing else removes one.
    first: () => items[head],
    get size() {
      return size;
    },
    get bytes() {
      return bytes;
    },
  };
}
