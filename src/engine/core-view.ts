import type { OutboxError } from '../errors.js';
import type { TrackerCore } from '../integration.js';
import type { ResolvedOptions } from '../options.js';
import { healthy } from '../queue-backoff.js';
import type { StatsCounters } from '../stats.js';
import type { Entry, QueueModel } from './queue-model.js';
import type { Scheduler } from './scheduler.js';
import type { StorageLink } from './storage-link.js';

/** What {@link createCoreView} exposes. */
export interface CoreViewSettings {
  options: ResolvedOptions;
  counters: StatsCounters;
  model: QueueModel;
  scheduler: Scheduler;
  link: StorageLink;
  report(error: OutboxError): void;
  settleWaiters(): void;
  /** The listeners told of events that left the outbox for good. */
  leftListeners: Set<(ids: readonly string[]) => void>;
  /** Sets the one listener told after each event is queued. */
  setOnTracked(listener: (() => void) | undefined): void;
}

/**
 * The {@link TrackerCore} given to integrations (page lifecycle, tab coordination): calls go down
 * into the engine's owners, which keep their own state.
 */
export function createCoreView(settings: CoreViewSettings): TrackerCore {
  const { model, scheduler, link, counters, leftListeners } = settings;

  // Events whose delivery was learnt elsewhere (a keepalive's 2xx, a receipt, another tab): out of
  // memory, and a send() waiting on them counts them as sent. A request under way keeps its own.
  function settledElsewhere(events: readonly Entry[]): Entry[] {
    const done = events.filter((entry) => !entry.gone && !model.isFlying(entry));
    for (const entry of done) {
      model.unlink(entry);
      entry.acked = true;
    }
    return done;
  }

  return {
    options: settings.options,
    get storage() {
      return link.storage;
    },
    ready: link.ready,
    counters,
    pending(visit) {
      for (const event of model.deque.values()) if (visit(event, model.isFlying(event), !!event.stored)) return;
    },
    holdBack(events, until, rid) {
      model.hold(events as Entry[], until);
      counters.unloadSent += events.length;
      link.outbox?.lease(rid, events.map((e) => e.id), until, events[0]?.stream);
      scheduler.arm();
    },
    acknowledge(events) {
      const done = settledElsewhere(events as Entry[]);
      link.outbox?.remove(done);
      counters.sent += done.length;
      if (done.length) leftListeners.forEach((listener) => listener(done.map((e) => e.id)));
      settings.settleWaiters();
    },
    onTracked(listener) {
      settings.setOnTracked(listener);
      return () => settings.setOnTracked(undefined);
    },
    wake(resetBackoff) {
      if (resetBackoff) scheduler.pause = healthy;
      scheduler.draining = true;
      scheduler.soon();
    },
    setSending(value) {
      scheduler.isSending = value;
      scheduler.soon();
    },
    rescan: link.rescan,
    resync: link.resync,
    forget(ids) {
      const set = new Set(ids);
      const done = settledElsewhere([...model.deque.values()].filter((entry) => set.has(entry.id)));
      link.outbox?.forget(done);
      settings.settleWaiters();
    },
    onAcknowledged(listener) {
      leftListeners.add(listener);
      return () => leftListeners.delete(listener);
    },
    report: settings.report,
  };
}
