/**
 * The size limit of one group (a batch, an unload request, a queue message, a spilled chunk).
 * A group of items weighs `baseBytes` + the items' bytes + `joinBytes` between two items.
 */
export interface SizeLimit<T = unknown> {
  /** Most bytes in one group. */
  maxBytes: number;
  /** Most items in one group. @default Infinity */
  maxCount?: number;
  /** Bytes of an empty group (a body's envelope, a message's metadata). @default 0 */
  baseBytes?: number;
  /** Bytes between two items (the comma of a JSON array). @default 0 */
  joinBytes?: number;
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
  const { maxBytes, maxCount = Infinity, baseBytes = 0, joinBytes = 0 } = limit;
  const groups: T[][] = [];
  let group: T[] = [];
  // Every item is counted with a join before it, the first one's taken back here.
  let bytes = baseBytes - joinBytes;
  const close = () => (groups.push(group), (group = []), (bytes = baseBytes - joinBytes), first);
  for (const item of items) {
    if (limit.skip?.(item, group)) continue;
    const size = bytesOf(item) + joinBytes;
    if (bytes + size > maxBytes && group.length && close()) return groups;
    // Checked again on an empty group: this item alone is over the limit.
    if (bytes + size > maxBytes && limit.stopAtOversize) break;
    bytes += size;
    if (group.push(item) >= maxCount && close()) return groups;
  }
  if (group.length) close();
  return groups;
}
