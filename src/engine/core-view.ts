import { OutboxError } from '../errors.js';
import type { TrackerCore } from '../integration.js';
import type { ResolvedOptions } from '../options.js';
import { healthy } from '../queue-backoff.js';
import type { StatsCounters } from '../stats.js';
import { records } from './delivery.js';
import type { Intake } from './intake.js';
import type { Entry, QueueModel } from './queue-model.js';
import type { Scheduler } from './scheduler.js';
import type { StorageLink } from './storage-link.js';

/** What {@link createCoreView} exposes. */
export interface CoreViewSettings {
  options: ResolvedOptions;
  counters: StatsCounters;
  queueModel: QueueModel;
  queueScheduler: Scheduler;
  storageLink: StorageLink;
  report(error: OutboxError): void;
  settleWaiters(): void;
  /** Tells the listeners below of events that left the outbox for good. */
  onLeft(ids: readonly string[]): void;
  /** The listeners told of events that left the outbox for good. */
  leftListeners: Set<(ids: readonly string[]) => void>;
  /** Holds the one listener told after each event is queued. */
  intake: Intake;
}

/**
 * The {@link TrackerCore} given to integrations (page lifecycle, tab coordination): calls go down
 * into the engine's owners, which keep their own state.
 */
export function createCoreView(settings: CoreViewSettings): TrackerCore {
  const { queueModel, queueScheduler, storageLink, counters, leftListeners } = settings;

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
    options: settings.options,
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
      storageLink.linkedOutbox?.lease(rid, events.map((e) => e.id), until, events[0]?.stream);
      queueScheduler.arm();
    },
    acknowledge(events, ruledSet) {
      const done = settledElsewhere(events as Entry[]);
      storageLink.linkedOutbox?.remove(done);
      // As for a batch's 2xx: what the collector says it dropped by rule is counted and reported.
      const ruled = ruledSet?.size ? done.filter((entry) => ruledSet.has(entry.id)) : [];
      counters.sent += done.length - ruled.length;
      counters.dropped.ruled += ruled.length;
      if (ruled.length) settings.report(new OutboxError('ruled', `${ruled.length} events hit a collector drop rule`, { events: records(ruled) }));
      if (done.length) settings.onLeft(done.map((e) => e.id));
      settings.settleWaiters();
    },
    onTracked(listener) {
      settings.intake.onTracked = listener;
      return () => (settings.intake.onTracked = undefined);
    },
    wake(resetBackoff) {
      if (resetBackoff) queueScheduler.backoff = healthy;
      queueScheduler.draining = true;
      queueScheduler.soon();
    },
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
      settings.settleWaiters();
    },
    onAcknowledged(listener) {
      leftListeners.add(listener);
      return () => leftListeners.delete(listener);
    },
    report: settings.report,
  };
}
