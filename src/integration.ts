import type { OutboxError } from './errors.js';
import type { QueuedEvent } from './event.js';
import type { ResolvedOptions } from './options.js';
import type { StatsCounters } from './stats.js';
import type { StorageAdapter } from './storage/storage.js';

/**
 * What a platform integration (page lifecycle, tab coordination) may do with a tracker. Not for
 * application code: it is the seam between the portable core and browser-only files.
 */
export interface TrackerCore {
  readonly options: ResolvedOptions;
  /** The storage in use, once resolved (undefined: memory only). */
  readonly storage: StorageAdapter | undefined;
  /** Settles once storage is resolved and first read (or given up for memory); `storage` is final then. */
  readonly ready: Promise<void>;
  readonly counters: StatsCounters;
  /**
   * Visits the events not yet acknowledged, oldest first, until `visit` returns true; `inFlight`
   * marks those in a request under way (or one that failed unanswered: it may have arrived),
   * `stored` those known to be in storage (the next page would send them). A visitor rather than an array: the fetchLater refresh walks the queue
   * every second, and an object per event made that the largest cost of a 100k-event queue.
   */
  pending(visit: (event: QueuedEvent, inFlight: boolean, stored: boolean) => boolean | void): void;
  /**
   * The unload path handed these events to the browser in request `rid` (a beacon: queued, not
   * delivered). They stay in the outbox, held back until `until`, and leased in storage under
   * `rid`, so the next page asks for that request's receipt instead of resending them at once.
   */
  holdBack(events: readonly QueuedEvent[], until: number, rid: string): void;
  /**
   * The collector is known to have these events (a keepalive request's 2xx, a receipt): they
   * leave memory and storage and count as sent, as if a batch of theirs was acknowledged; those
   * whose id the `reply` lists as `ruled` (a batch reply's or receipt's, unchecked) count
   * `dropped.ruled`, reported.
   */
  acknowledge(events: readonly QueuedEvent[], reply?: unknown): void;
  /** Calls `listener` after each event is queued (one listener; returns the unsubscribe). */
  onTracked(listener: () => void): () => void;
  /** Tries to send now: resets backoff when `resetBackoff` (the `online` event), else just pumps. */
  wake(resetBackoff?: boolean): void;
  /** Whether this tracker sends (false: another tab sends for it; it only appends). */
  setSending(sending: boolean): void;
  /** Reads events other writers appended to storage (a nudge from another tab). */
  rescan(): Promise<void>;
  /** Drops what memory holds of persisted events and reloads storage: for a new sender. */
  resync(): Promise<void>;
  /** Forgets events another tab got acknowledged (memory only; that tab updated storage). */
  forget(ids: readonly string[]): void;
  /**
   * Called with the ids of events that left the outbox for good: every acknowledged batch, and
   * every drop this tracker counted (other tabs holding copies forget them). Returns the unsubscribe.
   */
  onAcknowledged(listener: (ids: readonly string[]) => void): () => void;
  /** Reports an error through `onError`. */
  report(error: OutboxError): void;
}

/** A platform integration: started with the tracker, and the function it returns stops it. */
export type Integration = (core: TrackerCore) => (() => void) | void;

/** What a tracker gets by default on the platform it runs on. */
export interface PlatformDefaults {
  /** Integrations started with every tracker (page lifecycle, tab coordination in browsers). */
  integrations: Integration[];
  /** The default storage when `storage` is not given (IndexedDB in browsers, loaded lazily). */
  storage?: (name: string) => Promise<StorageAdapter | undefined>;
}

/** Node and workerd: no integrations, and events in memory unless `storage` says otherwise. */
export const serverPlatform: PlatformDefaults = { integrations: [] };
