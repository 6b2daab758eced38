import { OutboxError } from '../errors.js';
import { createIdGenerator, errorText, serializeEvent, type TrackOptions } from '../event.js';
import type { ResolvedOptions } from '../options.js';
import type { StatsCounters } from '../stats.js';
import type { Delivery } from './delivery.js';
import type { Entry, QueueModel } from './queue-model.js';
import type { RuleBook } from './rule-book.js';
import type { Scheduler } from './scheduler.js';
import type { StorageLink } from './storage-link.js';
import { TrackedEntry } from './tracked-entry.js';

/** Intake (see {@link createIntake}): how an event becomes an entry in the queue, or is refused. */
export interface Intake {
  /** The next arrival number: every entry queued so far has a lower one. */
  readonly nextSeq: number;
  /** Builds the entry of an event; throws an {@link OutboxError} for one that may not be queued. */
  admit(name: unknown, properties: unknown, options: TrackOptions | undefined): Entry;
  /** Counts and reports an event refused before it was queued (invalid, too_large, ruled). */
  refused(error: unknown): void;
  /** Queues an admitted entry in memory and storage; the caps may evict older ones (or it). */
  storeEntry(entry: Entry): void;
  /** `track()`: queues an event, or counts and reports it refused; never throws. */
  track(name: string, properties?: Record<string, unknown>, options?: TrackOptions): void;
  /** The one listener told after each event tracked is queued (the unload path, while the page hides). */
  onTracked?: (() => void) | undefined;
}

/** Creates the {@link Intake}: evictions go to `queueDelivery`, entries to the storage link's outbox. */
export function createIntake(
  options: ResolvedOptions,
  counters: StatsCounters,
  queueModel: QueueModel,
  queueScheduler: Scheduler,
  queueDelivery: Delivery,
  ruleBook: RuleBook,
  storageLink: StorageLink,
  report: (error: OutboxError) => void,
): Intake {
  const { now } = options;
  const nextId = createIdGenerator();
  let seq = 0;

  function storeEntry(entry: Entry): void {
    const out = queueModel.add(entry);
    // Appended before the eviction is reported: an onError that re-enters track() may evict this
    // very entry, and its removal must find it (it was written after being reported overflow).
    storageLink.linkedOutbox?.append(entry);
    queueDelivery.evicted(out);
  }

  const intake: Intake = {
    get nextSeq() {
      return seq;
    },
    admit(name, properties, callOptions) {
      // Each option read once: a getter may answer differently (or throw) on a second read.
      const id = callOptions?.id;
      const sourceId = callOptions?.sourceId ?? options.sourceId;
      const stream = callOptions?.stream;
      const [json, bytes] = serializeEvent(id ?? nextId(), name, callOptions?.timestamp ?? now(), sourceId, stream, properties, options.maxEventBytes, id === undefined);
      // Checked once the event is built: the refusal names the event it loses (sim F12).
      if (queueScheduler.isClosed) throw new OutboxError('invalid', `"${name as string}" after close()`, { events: [JSON.parse(json)] });
      const entry: Entry = new TrackedEntry(name as string, sourceId ?? '', stream ?? '', json, bytes, seq++);
      if (ruleBook.ruleMatches(entry, now)) throw new OutboxError('ruled', `"${entry.name}" matches a drop rule`, { events: [JSON.parse(json)] });
      return entry;
    },
    refused(error) {
      let outboxError: OutboxError | undefined;
      try {
        if (error instanceof OutboxError) outboxError = error;
      } catch {
        // instanceof on a thrown Proxy whose getPrototypeOf trap throws
      }
      outboxError ??= new OutboxError('invalid', errorText(error), { cause: error });
      const code = outboxError.code === 'too_large' || outboxError.code === 'ruled' ? outboxError.code : 'invalid';
      counters.dropped[code]++;
      report(outboxError);
    },
    storeEntry,
    track(name, properties, callOptions) {
      counters.tracked++;
      let entry;
      try {
        entry = intake.admit(name, properties, callOptions);
      } catch (error) {
        return intake.refused(error);
      }
      storeEntry(entry);
      // The unload path is told, and the flush interval starts.
      intake.onTracked?.();
      queueScheduler.onQueued();
    },
  };
  return intake;
}
