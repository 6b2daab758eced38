import { OutboxError, type OutboxEventRecord } from '../errors.js';
import { randomId } from '../event.js';
import type { PlatformDefaults } from '../integration.js';
import { minLeaseCapMs, type ResolvedOptions } from '../options.js';
import { createOutbox, type Outbox, type StoredEvent } from '../outbox.js';
import type { StatsCounters } from '../stats.js';
import type { StorageAdapter } from '../storage/storage.js';
import type { Delivery, OutboxLink } from './delivery.js';
import type { Entry, QueueModel } from './queue-model.js';
import type { RuleBook } from './rule-book.js';
import type { Scheduler } from './scheduler.js';

/**
 * The storage link (see {@link createStorageLink}): attaches the durable outbox, loads what other
 * writers stored (rescan), and reloads it all for a new sender (resync).
 */
export interface StorageLink extends OutboxLink {
  readonly storage: StorageAdapter | undefined;
  /** Settles once storage is resolved and first read (or given up for memory). */
  readonly ready: Promise<void>;
  /** Resolves the storage, reads its rules and (a sender) its events; then the engine is ready. */
  attach(): Promise<void>;
  rescan(): Promise<void>;
  resync(): Promise<void>;
}

/**
 * Creates the {@link StorageLink}; nothing happens before `attach()`. `onLeft` is told of
 * events that left the outbox for good; `settleWaiters` resolves the flush() calls nothing keeps waiting.
 */
export function createStorageLink(
  options: ResolvedOptions,
  platformDefaults: PlatformDefaults,
  queueModel: QueueModel,
  queueScheduler: Scheduler,
  queueDelivery: Delivery,
  ruleBook: RuleBook,
  counters: StatsCounters,
  report: (error: OutboxError) => void,
  settleWaiters: () => void,
  onLeft: (events: readonly { id: string }[]) => void,
): StorageLink {
  const { now } = options;
  let outbox: Outbox | undefined;
  let storage: StorageAdapter | undefined;
  // Set once this tab reads the shared outbox to send it (rescan, resync: only a sender or a tab
  // taking over does). From then on its evictions are counted here, even before setSending(true)
  // follows the read: they were left in storage uncounted, or rewritten away (sim F8, F8b).
  let owner = false;
  let loadedSeq = 0;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  // One read for both: a rescan loads what other writers stored; a resync (a new sender) reloads
  // it all, and what memory holds of stored events and storage no longer has was delivered (or is
  // being sent) by another tab. A failed read is tried again, as nothing else may nudge this tab.
  async function read(all: boolean): Promise<void> {
    if (!outbox) return;
    owner = true;
    // Only events already stored when the read starts: one whose write lands during the read is
    // in no listing of it, and must not be taken for gone (it would vanish from memory).
    const storedBefore = all ? [...queueModel.deque.values()].filter((entry) => entry.stored) : [];
    try {
      const [events, nextLeaseExpiry, taken] = await outbox.load(all);
      // Closed while storage was read: nothing is taken in. The events stay stored for the next
      // sender; taken in, they were stranded here, or evicted and counted as this tab's overflow
      // while the tabs that tracked them kept their copies (a random seed, 1390015432).
      if (queueScheduler.isClosed) return;
      // Only once storage was read. An event whose write failed or is under way (not `stored`),
      // or that shares a chunk with leased ones, stays visible to the unload path; and if the
      // read fails, everything in memory stays and is sent.
      for (const entry of storedBefore) if (!entry.gone && !entry.batch && taken(entry)) queueModel.unlink(entry);
      const known = new Set(Array.from(queueModel.deque.values(), (entry) => entry.id));
      const fresh = events.filter((e) => !known.has(e.id)) as Entry[];
      // Loaded events were queued before anything this tracker holds, so they sort below it: a
      // flush() waiting when they arrive waits for them too (the oldest gets the lowest number).
      loadedSeq -= fresh.length;
      fresh.forEach((entry, i) => (entry.seq = loadedSeq + i));
      // Events loaded from storage (other tabs', earlier pages') go now whatever minBatchEvents
      // says: their tab's flush() waits on this one (sim F11).
      if (fresh.length) queueScheduler.drainAll();
      queueDelivery.evicted(queueModel.addLoaded(fresh));
      queueScheduler.rescanBy(nextLeaseExpiry, true);
    } catch (error) {
      // Tried again a flush interval later, until a read succeeds (sim F7: a sender whose takeover
      // read failed never read storage again); at most 10 s, other tabs' events wait (sim F14).
      report(new OutboxError('storage', 'reading storage failed; retrying', { cause: error }));
      queueScheduler.rescanBy(now() + Math.min(options.flushIntervalMs, minLeaseCapMs));
    }
    if (all) settleWaiters();
    queueScheduler.pump();
  }

  async function attach(): Promise<void> {
    try {
      const adapter = options.storage === false ? undefined : (options.storage ?? (await platformDefaults.storage?.(options.name)));
      if (adapter) {
        const box = createOutbox(adapter, {
          writerId: randomId(8),
          now,
          onError(error) {
            // Another tab sends only what reached storage: a tab whose writes fail sends its own.
            queueScheduler.isSending = true;
            queueScheduler.soon();
            report(new OutboxError('storage', 'storage write failed; this tab sends', { cause: error }));
          },
          onCorrupt(kind, count, lost) {
            // Unusable events are lost and counted; a bad lease or rules value loses nothing.
            // Tabs holding copies of the named ones forget them, as any drop here (sim F15).
            if (kind === 'events') {
              counters.dropped.corrupt += count;
              onLeft(lost as OutboxEventRecord[]);
            }
            report(new OutboxError(kind === 'events' ? 'corrupt' : 'storage', `${count} unusable stored ${kind} deleted`, { events: lost as OutboxEventRecord[] }));
          },
          // A chunk holds up to four batches: a burst takes a quarter of the writes (Chromium's
          // IndexedDB spends ~20 µs of main thread per put, whatever its size), and an
          // acknowledged batch rewrites at most three batches' worth, or deletes the chunk.
          chunkEvents: 4 * options.maxBatchEvents,
          chunkBytes: 4 * options.maxBatchBytes,
          // A request times out after timeoutMs, so a lease longer than two of those (or than the
          // unload path's 10 s hold) is a clock that went back, or a forged value.
          maxLeaseMs: Math.max(options.timeoutMs * 2, minLeaseCapMs),
          // A failed write is written again after a backoff, on the scheduler's timers: close() stops it.
          retry: queueScheduler.retry,
        });
        // Read before anything is written: storage that cannot even read is given up, reported once.
        ruleBook.restoreRules(await box.loadRules(), now());
        storage = adapter;
        outbox = box;
        // Events tracked before storage was ready are written now (they were only in memory).
        for (const entry of queueModel.deque.values()) outbox.append(entry);
        // A tab that only appends leaves the shared outbox to the sender (it loads it when it becomes one).
        if (queueScheduler.isSending) await read(false);
      }
    } catch (error) {
      report(new OutboxError('storage', 'storage unusable; events stay in memory', { cause: error }));
      storage = undefined;
      outbox = undefined;
    }
    queueScheduler.isReady = true;
    markReady();
    queueScheduler.pump();
    settleWaiters();
  }

  return {
    get linkedOutbox() {
      return outbox;
    },
    get storage() {
      return storage;
    },
    get owner() {
      return owner;
    },
    ready,
    attach,
    rescan: () => read(false),
    resync: () => read(true),
  };
}
