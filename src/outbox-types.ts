import type { QueuedEvent } from './event.js';
import type { ActiveRule } from './rules.js';

// The durable outbox's contract (createOutbox in outbox.ts implements it): what the engine and the
// platform integrations may ask of it, and what it tells them back.

/** An event the durable outbox knows, with the chunk (storage key) that holds it. */
export interface StoredEvent extends QueuedEvent {
  chunk?: string;
  /** True once its chunk is known to be in storage (our write succeeded, or it was loaded). */
  stored?: boolean;
}

/** The durable queue over a {@link StorageAdapter} (outbox.ts `createOutbox`). */
export interface Outbox {
  /** Queues an event for writing; all appends of one tick become one chunk, one write. */
  append(event: StoredEvent): void;
  /** Forgets events for good (acknowledged or dropped): their chunks are deleted or rewritten. */
  remove(events: readonly StoredEvent[]): void;
  /**
   * Reads chunks this outbox does not know yet (other writers', earlier sessions'), oldest
   * first, leaving out chunks with an event under another writer's unexpired lease (this outbox's
   * own leases hold nothing back: the caller has those events): `[events, nextLeaseExpiry, taken]`.
   * `nextLeaseExpiry` says when to look again.
   * With `all` (a new sender), reads every chunk and, only once the read succeeded, forgets the
   * chunks it knew that are gone: a failed read changes nothing. `taken(event)` says whether an
   * event known before is gone from storage (acknowledged) or leased by someone else.
   */
  load(all?: boolean): Promise<LoadResult>;
  /**
   * Stops tracking events that left memory while another tab owns storage (memory only, no write).
   * With `whole` (events not acknowledged: evicted, still in storage), it forgets their chunks
   * entirely: removing the chunks' other events then leaves the chunks in storage, for a read.
   */
  forget(events: readonly StoredEvent[], whole?: boolean): void;
  /**
   * Records that `events` (their ids) are being sent by someone until `until`, so no one else
   * sends them. `leaseId` is the request's `rid`, and the stream of its events is stored with it:
   * the next sender asks the collector for that request's receipt instead of waiting out the lease
   * (platform/lease-receipts.ts).
   */
  lease(leaseId: string, events: readonly Pick<StoredEvent, 'id' | 'stream'>[], until: number): void;
  /** Ends a lease (the request finished, whatever its outcome). */
  release(leaseId: string): void;
  saveRules(rules: readonly ActiveRule[]): void;
  /** The stored rules, validated and capped like a reply's (rules.ts `restoreRules`). */
  loadRules(): Promise<ActiveRule[]>;
  /** Resolves when every write queued so far has reached storage. */
  idle(): Promise<void>;
}

/** What {@link Outbox.load} found: a triple, no object built per read. */
export type LoadResult = [events: StoredEvent[], nextLeaseExpiry: number | undefined, taken: (event: StoredEvent) => boolean];

/** What a stored record was, when it could not be used (see {@link OutboxSettings.onCorrupt}). */
export type CorruptKind = 'events' | 'lease' | 'rules';

/** Settings of outbox.ts `createOutbox`. */
export interface OutboxSettings {
  /** Tells this writer's chunks apart from other tabs'. */
  writerId: string;
  now: () => number;
  /** A write failed (reported once per streak of failures). */
  onError: (error: unknown) => void;
  /**
   * Stored values that could not be used were quarantined (deleted or rewritten without them):
   * `count` event records (an unparseable chunk counts as one), or leases, or rules.
   */
  onCorrupt: (kind: CorruptKind, count: number, records?: unknown[]) => void;
  /** Most events in one chunk. @default 100 */
  chunkEvents?: number;
  /** Most bytes in one chunk (its events' JSON and the commas between them): more starts another. @default Infinity */
  chunkBytes?: number;
  /** A stored lease expiring later than this from now is cut to it (the clock went back). @default Infinity */
  maxLeaseMs?: number;
  /**
   * After each failed write: call `write` in `delayMs` (outbox-write-retry.ts `writeRetryDelay`). The caller
   * owns the timer, so it can stop it (a closed tracker); a newer call replaces the older one.
   * Without it, a failed write waits for the next append, removal or lease.
   */
  retry?: (delayMs: number, write: () => void) => void;
}

