import { ruledEvents } from '../batch-outcome.js';
import type { TrackerCore } from '../integration.js';
import type { ResolvedOptions } from '../options.js';
import type { StatsCounters } from '../stats.js';
import type { Delivery } from './delivery.js';
import type { Intake } from './intake.js';
import type { Entry, QueueModel } from './queue-model.js';
import type { Scheduler } from './scheduler.js';
import type { StorageLink } from './storage-link.js';

/**
 * The {@link TrackerCore} given to integrations (page lifecycle, tab coordination): calls go down
 * into the engine's owners, which keep their own state. `leftListeners` are told of events that
 * left the outbox for good; `settleWaiters` resolves the flush() calls nothing keeps waiting.
 */
export function createCoreView(
  options: ResolvedOptions,
  counters: StatsCounters,
  queueModel: QueueModel,
  queueScheduler: Scheduler,
  storageLink: StorageLink,
  queueDelivery: Delivery,
  intake: Intake,
  leftListeners: Set<(ids: readonly string[]) => void>,
  settleWaiters: () => void,
  report: TrackerCore['report'],
): TrackerCore {
  // Events whose delivery was learnt elsewhere (a keepalive's 2xx, a receipt, another tab): out of
  // memory, and a send() waiting on them counts them as sent. A request under way keeps its own.
  function settledElsewhere(events: readonly Entry[]): Entry[] {
    const done = events.filter((entry) => !entry.gone && !queueModel.isFlying(entry));
    for (const entry of done) {
      queueModel.unlink(entry);
      entry.acked = true;
    }
    return done;
  }

  return {
    options,
    get storage() {
      return storageLink.storage;
    },
    ready: storageLink.ready,
    counters,
    pending(visit) {
      // A batch whose request may have arrived counts as in flight: the unload path leaves its
      // stored events to that request's receipt (issue 12).
      for (const event of queueModel.deque.values()) if (visit(event, queueModel.isFlying(event) || !!event.batch?.unsure, !!event.stored)) return;
    },
    holdBack(events, until, rid) {
      queueModel.hold(events as Entry[], until);
      counters.unloadSent += events.length;
      storageLink.linkedOutbox?.lease(rid, events, until);
      queueScheduler.arm();
    },
    acknowledge(events, reply) {
      const done = settledElsewhere(events as Entry[]);
      // As for a batch's 2xx: what the collector says it dropped by rule is counted and reported.
      queueDelivery.acknowledged(done, ruledEvents(reply, done));
      settleWaiters();
    },
    onTracked(listener) {
      intake.onTracked = listener;
      return () => (intake.onTracked = undefined);
    },
    wake: queueScheduler.wake,
    setSending(value) {
      queueScheduler.isSending = value;
      queueScheduler.soon();
    },
    rescan: storageLink.rescan,
    resync: storageLink.resync,
    forget(ids) {
      const set = new Set(ids);
      const done = settledElsewhere([...queueModel.deque.values()].filter((entry) => set.has(entry.id)));
      storageLink.linkedOutbox?.forget(done);
      settleWaiters();
    },
    onAcknowledged(listener) {
      leftListeners.add(listener);
      return () => leftListeners.delete(listener);
    },
    report,
  };
}
