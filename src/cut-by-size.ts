/** The limit of one group (a batch, an unload request, a queue message, a spilled chunk). */
export interface SizeLimit<T = unknown> {
  /** Most bytes in one group: the sum of its items' sizes (weigh each with its separator). */
  maxBytes: number;
  /** Most items in one group (`Infinity` for no limit). */
  maxCount: number;
  /**
   * What happens to an item too big for an empty group: by default it goes in a group of its own
   * (the collector may answer 413, and the batch is split); with `stopAtOversize` the cut ends
   * before it (an unload request or a queue message cannot be split later). @default false
   */
  stopAtOversize?: boolean;
  /**
   * Leaves an item out of the group being cut (an event of another stream than the group's first:
   * a request has one endpoint). @default none left out
   */
  skip?: (item: T, group: readonly T[]) => boolean;
}

/**
 * The one size cutter: cuts `items`, in order, into consecutive groups within `limit`; with
 * `first`, stops after the first group, reading only as far as it needs (plus the item that
 * closed it by bytes), so cutting a batch from 10,000 queued events reads a batch. An item that
 * `stopAtOversize` refuses ends the cut: the groups then hold fewer items than given. Pure.
 */
export function cutBySize<T>(items: Iterable<T>, bytesOf: (item: T) => number, limit: SizeLimit<T>, first?: boolean): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  const close = () => (groups.push(group), (group = []), (bytes = 0), first);
  for (const item of items) {
    if (limit.skip?.(item, group)) continue;
    const size = bytesOf(item);
    if (bytes + size > limit.maxBytes && group.length && close()) return groups;
    // This item alone is over the limit (a group it overflowed was closed above).
    if (size > limit.maxBytes && limit.stopAtOversize) break;
    bytes += size;
    if (group.push(item) >= limit.maxCount && close()) return groups;
  }
  if (group.length) close();
  return groups;
}

/**
 * An event's weight in a body: its JSON and the comma that joins it to the next. A body of n
 * events weighs their sum minus one, so a limit on the exact body size is raised by one byte.
 */
export const joinedBytes = (event: { bytes: number }): number => event.bytes + 1;
