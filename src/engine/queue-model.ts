import { randomId } from '../event.js';
import { createDeque, type Deque, type DequeLimits } from '../deque.js';
import type { StoredEvent } from '../outbox.js';

/**
 * A queued event as the engine holds it. `gone` is set when it leaves memory (the deque sets it),
 * `acked` when it left as delivered (by this tab or another), `batch` while a batch holds it,
 * `heldUntil` while the unload path's request may still deliver it.
 */
export interface Entry extends StoredEvent {
  gone?: boolean;
  acked?: boolean;
  batch?: Batch | undefined;
  heldUntil?: number;
}

/** Events cut to go in one request: waiting (to start or to be retried) or in flight. */
export interface Batch {
  /** The request id: new content (a split, an event removed) gets a new one. */
  rid: string;
  stream: string;
  events: Entry[];
  /** Attempts started so far. */
  attempt: number;
  /** Called once no event of it is left to deliver: a `send()` waiting on this batch. */
  settled?: () => void;
  /** Its last request failed without an answer: it may have arrived, and its lease stands. */
  unsure?: boolean;
}

/**
 * The queue model (see {@link createQueueModel}): every queued entry, the batches waiting and in
 * flight, and how many entries no batch holds yet. Each fact has one representation: an entry is
 * in flight exactly when its batch is in `flying`.
 */
export interface QueueModel {
  readonly deque: Deque<Entry>;
  /** Batches to start, in order of their oldest event. */
  readonly waitingBatches: readonly Batch[];
  /** Batches whose request is under way. */
  readonly flying: ReadonlySet<Batch>;
  /** Entries queued that no batch holds. */
  readonly unbatched: number;
  /** Queues an entry; returns the entries evicted to make room, already out of every batch. */
  add(entry: Entry): readonly Entry[];
  /** Queues entries loaded from storage (oldest first); returns the entries evicted. */
  addLoaded(entries: readonly Entry[]): readonly Entry[];
  /** Takes an entry out of memory and out of its waiting batch (a batch in flight keeps it). */
  unlink(entry: Entry): void;
  /** Whether a request holding this entry is under way. */
  isFlying(entry: Entry): boolean;
  /** A new batch of these entries (a batch owns its events: they are in no other). */
  newBatch(events: Entry[]): Batch;
  /** Puts a batch in line by its oldest event. */
  enqueueBatch(batch: Batch): void;
  /** Moves a waiting batch to flight, counting the attempt. */
  fly(batch: Batch): void;
  /** A batch's request ended. */
  land(batch: Batch): void;
  /** A batch that landed is done: its entries leave memory with it (acknowledged or dropped). */
  retire(batch: Batch): void;
  /** The unload path handed these entries to the browser; they are not cut before `until`. */
  hold(events: readonly Entry[], until: number): void;
  /** The earliest hold-back of an unbatched entry still in force at `time` (Infinity: none). */
  nextHold(time: number): number;
  /** Entries a new batch may take at `time`, oldest first. */
  candidates(time: number): Generator<Entry>;
  /** Events in requests under way. */
  flyingEvents(): number;
}

/** Creates an empty {@link QueueModel} bounded by `limits` (the queue caps). */
export function createQueueModel(batchLimits: DequeLimits): QueueModel {
  const deque = createDeque<Entry>(batchLimits);
  const waitingBatches: Batch[] = [];
  const flying = new Set<Batch>();
  let unbatched = 0;
  let heldUntilMax = 0; // latest hold-back of the unload path: no scan for held events after it

  const isFlying = (entry: Entry): boolean => !!entry.batch && flying.has(entry.batch);
  const canEvict = (entry: Entry): boolean => !isFlying(entry);
  // Not found (-1) >>> 0 is 2^32 - 1, past the end: splice removes nothing.
  const unwait = (batch: Batch): void => void waitingBatches.splice(waitingBatches.indexOf(batch) >>> 0, 1);

  // Out of its batch: a waiting batch loses the entry (new content, new request id) and, empty,
  // leaves the line; a batch in flight keeps it (its outcome still names it).
  function leaveBatch(entry: Entry): void {
    const batch = entry.batch;
    if (!batch) return void unbatched--;
    entry.batch = undefined;
    if (flying.has(batch)) return;
    batch.events = batch.events.filter((e) => e !== entry);
    batch.rid = randomId(16);
    if (batch.events.length) return;
    unwait(batch);
    batch.settled?.();
  }

  function evicted(out: readonly Entry[]): readonly Entry[] {
    out.forEach(leaveBatch);
    return out;
  }

  return {
    deque,
    waitingBatches,
    flying,
    get unbatched() {
      return unbatched;
    },
    add(entry) {
      const out = deque.push(entry, canEvict);
      unbatched++;
      return evicted(out);
    },
    addLoaded(entries) {
      unbatched += entries.length;
      // Chunks come oldest first. Those older than everything in memory go in front, newer ones
      // (other tabs' recent appends) behind, so the caps still evict the oldest events first.
      // With nothing in memory (no head) no chunk compares newer: all go in front.
      const head = deque.first()?.chunk;
      const cut = entries.findIndex((e) => e.chunk! > head!) >>> 0; // none newer (-1 >>> 0, past the end): all of them
      const out = deque.prepend(entries.slice(0, cut), canEvict);
      for (const entry of entries.slice(cut)) out.push(...deque.push(entry, canEvict));
      return evicted(out);
    },
    unlink(entry) {
      if (entry.gone && !entry.batch) return;
      deque.remove(entry);
      leaveBatch(entry);
    },
    isFlying,
    newBatch(events) {
      const batch: Batch = { rid: randomId(16), stream: events[0]!.stream, events, attempt: 0 };
      for (const entry of events) {
        if (!entry.batch) unbatched--;
        entry.batch = batch;
      }
      return batch;
    },
    enqueueBatch(batch) {
      const first = batch.events[0]!.seq;
      const index = waitingBatches.findIndex((other) => other.events[0]!.seq > first);
      waitingBatches.splice(index >>> 0, 0, batch); // none later (-1 >>> 0 is past the end): appended
    },
    fly(batch) {
      unwait(batch);
      batch.attempt++;
      flying.add(batch);
    },
    land(batch) {
      flying.delete(batch);
    },
    retire(batch) {
      for (const entry of batch.events) {
        entry.batch = undefined;
        deque.remove(entry);
      }
    },
    hold(events, until) {
      for (const entry of events) entry.heldUntil = until;
      heldUntilMax = Math.max(heldUntilMax, until);
    },
    nextHold(time) {
      let at = Infinity;
      if (unbatched > 0 && heldUntilMax > time) for (const entry of deque.values()) if (entry.heldUntil! > time && !entry.batch) at = Math.min(at, entry.heldUntil!);
      return at;
    },
    *candidates(time) {
      for (const entry of deque.values()) if (!entry.batch && !(entry.heldUntil! > time)) yield entry;
    },
    flyingEvents() {
      let n = 0;
      for (const batch of flying) n += batch.events.length;
      return n;
    },
  };
}
