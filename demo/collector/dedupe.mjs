/**
 * A bounded memory of ids: remembers at most `capacity` ids and forgets the oldest first.
 *
 * A plain Set would grow for as long as the collector runs; a FIFO window keeps memory fixed
 * while still catching the retries that matter (a client retries a batch within minutes,
 * not after a million newer events).
 *
 * @param {number} capacity how many ids to remember (at least 1)
 */
export function createIdWindow(capacity) {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new TypeError(`[collector] id window capacity must be a positive integer, got ${capacity}`);
  }
  /** @type {Set<string>} */
  const seen = new Set();
  // Grows by push until full, then is reused as a ring, so an unused window costs nothing.
  /** @type {string[]} */
  let ring = [];
  let oldest = 0;

  return {
    capacity,
    /** @param {string} id */
    has(id) {
      return seen.has(id);
    },
    /**
     * Remembers `id`; returns false when it was already known (a duplicate).
     * @param {string} id
     */
    add(id) {
      if (seen.has(id)) return false;
      if (ring.length < capacity) {
        ring.push(id);
      } else {
        seen.delete(ring[oldest]);
        ring[oldest] = id;
        oldest = (oldest + 1) % capacity;
      }
      seen.add(id);
      return true;
    },
    get size() {
      return seen.size;
    },
    clear() {
      seen.clear();
      ring = [];
      oldest = 0;
    },
  };
}

/** @typedef {ReturnType<typeof createIdWindow>} IdWindow */
