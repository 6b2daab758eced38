// How the outbox (outbox.ts) keeps each chunk's events until they are removed. Our own chunks hold
// the appended objects (a Set: hashing each new id cost track() 0.3-0.6 µs); chunks read back are
// indexed by id (a chunk loaded twice holds other objects with the same ids: removal still finds them).
import type { StoredEvent } from './outbox-types.js';

/** The events of a chunk not yet removed: the appended objects themselves, or by id when read back. */
export type Live = Set<StoredEvent> | Map<string, StoredEvent>;

/** Removes an event from its chunk's live events; true when it was there. */
export const without = (live: Live, event: StoredEvent): boolean => (live as { delete(key: unknown): boolean }).delete(live instanceof Set ? event : event.id);
