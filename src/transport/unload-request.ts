import { otherStream } from '../batch.js';
import { cutBySize, joinedBytes } from '../cut-by-size.js';
import { randomId, type QueuedEvent } from '../event.js';
import { encodeBody } from './encode.js';
import { requestUrl, type RequestTarget } from './request.js';

/**
 * What one unload request may weigh, in bytes sent. Chromium allows 64 KiB of
 * in-flight keepalive bodies per page, shared by every beacon and keepalive fetch of the page, and
 * 64 KiB of deferred fetches per reporting origin (URL included); we keep 16 KiB for the host page.
 * Over the quota, sendBeacon returns false and a keepalive fetch rejects (toolchain.md).
 */
export const unloadBudgetBytes = 48 * 1024;

/** Options of the unload path: what it uses of the tracker's options, no more. */
export interface UnloadOptions extends RequestTarget {
  /** Events per request, as for any request. */
  maxBatchEvents: number;
  /** Bytes of events per request, as for any request. */
  maxBatchBytes: number;
  /** The clock of the body's `sentAt`. */
  now: () => number;
}

/**
 * One request ready to go: CORS-simple (a typeless byte body, the signature in the URL). Always
 * plain: the unload path must stay synchronous, and the platform's gzip is async (design.md, 7).
 */
export interface UnloadRequest {
  /** The request id in the URL: the next page asks the collector for its receipt. */
  rid: string;
  url: string;
  body: Uint8Array;
  events: QueuedEvent[];
}

/**
 * The events one unload request may carry, in the order given (the lifecycle puts events only
 * memory holds first, then the oldest): those of the first event's stream (a request has one
 * endpoint and one signer), at most `maxBatchEvents` and `maxBatchBytes` like any request, and at
 * most `budget` bytes.
 */
export function cutUnloadBatch(options: UnloadOptions, candidates: Iterable<QueuedEvent>, budget: number): QueuedEvent[] {
  // An event alone over the budget stops the cut: an unload request cannot be split later. +1:
  // the last event has no comma.
  const limit = { maxBytes: Math.min(options.maxBatchBytes, budget) + 1, maxCount: options.maxBatchEvents, stopAtOversize: true, skip: otherStream };
  return cutBySize(candidates, joinedBytes, limit, true)[0] ?? [];
}

/**
 * Encodes `events` (one stream, from {@link cutUnloadBatch}) as one wire format v1 request whose
 * body (plus the URL, for `fetchLater`, whose quota counts it) fits `budget`, dropping the newest
 * events until it does. Undefined when not even the oldest event fits.
 */
export function encodeUnloadRequest(
  options: UnloadOptions,
  events: readonly QueuedEvent[],
  budget: number,
  urlCounts: boolean,
): UnloadRequest | undefined {
  const stream = events[0]?.stream ?? '';
  const rid = randomId(16);
  let count = events.length;
  while (count > 0) {
    const taken = events.slice(0, count);
    const body = encodeBody(taken, options.now());
    const url = requestUrl(options, rid, stream, body);
    const size = body.length + (urlCounts ? url.length : 0);
    if (size <= budget) return { rid, url, body, events: taken };
    // Event sizes are even enough across a batch that scaling by the overshoot lands close.
    count = Math.min(count - 1, Math.floor((count * budget * 0.95) / size));
  }
  return undefined;
}

