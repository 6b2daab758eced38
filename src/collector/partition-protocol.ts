/**
 * What the collector's front (the Worker) and a partition (a Durable Object) say to each other,
 * over the object's `fetch`. Internal: both ends ship in the same deploy.
 */

/** One event to append: `data` is the event's JSON as the feed serves it; `rule` its matching rule's index, or -1. */
export interface AppendEvent {
  id: string;
  data: string;
  rule: number;
}

/** POST /append. `receipt`, when the request's events all go to this partition, commits in the same transaction. */
export interface AppendRequest {
  events: AppendEvent[];
  rid: string | null;
  receivedAt: number;
  receipt?: ReceiptWrite;
}

/** The reply to /append: what was stored, what was there already, what a rule dropped. */
export interface AppendReply {
  accepted: number;
  duplicates: number;
  ruled: { id: string; rule: number }[];
}

/** POST /receipt: remember `rid` as committed; forget receipts older than `ttlMs`, beyond `maxReceipts`. */
export interface ReceiptWrite {
  rid: string;
  at: number;
  ttlMs: number;
  maxReceipts: number;
  /** Ids of the request the rules dropped (wire.ts ReceiptReply `ruled`); in /append, the partition adds its own. */
  ruled?: string[];
}

/** The reply to GET /receipt: whether `rid` was committed, and its ruled ids (absent: none). */
export interface ReceiptRead {
  received: boolean;
  ruled?: string[];
}

/** One stored event as a partition reads it back. */
export interface StoredEvent {
  seq: number;
  data: string;
  receivedAt: number;
  rid: string | null;
}

/** The reply to GET /read: events after the cursor, and the cursor after them. */
export type ReadReply = { ok: true; events: StoredEvent[]; cursor: string } | { ok: false; message: string };

/** The URL host of internal requests: never reachable from outside, a Durable Object's fetch is not routed. */
export const partitionOrigin = 'https://partition.internal';
