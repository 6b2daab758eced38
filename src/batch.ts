import { cutBySize, joinedBytes } from './cut-by-size.js';
import type { QueuedEvent } from './event.js';

/** Limits of one request. */
export interface BatchLimits {
  maxEvents: number;
  maxBytes: number;
}

/**
 * The ordering key: events with the same key are never in two batches at once, so one source's
 * events reach the collector in order (per stream, since streams are separate destinations).
 */
export function orderingKey(event: Pick<QueuedEvent, 'stream' | 'sourceId'>): string {
  return `${event.stream}\u0000${event.sourceId}`;
}

/**
 * Cuts the next batch from `candidates` (oldest first): events of one stream, none whose ordering
 * key is `busy`, at most `maxEvents`, and at most `maxBytes` of events unless a single event is
 * bigger (then it goes alone; the collector may answer 413). Pure.
 */
export function cutBatch<T extends QueuedEvent>(
  candidates: Iterable<T>,
  limits: BatchLimits,
  busy: ReadonlySet<string>,
): T[] {
  // Each event counts with a comma, the last one's included (a byte of slack under the limit).
  const limit = { maxBytes: limits.maxBytes, maxCount: limits.maxEvents, skip: (event: T, batch: readonly T[]) => otherStream(event, batch) || busy.has(orderingKey(event)) };
  return cutBySize(candidates, joinedBytes, limit, true)[0] ?? [];
}

/** Whether `event` belongs to another stream than the events of `batch` (a request has one endpoint). */
export const otherStream = (event: QueuedEvent, batch: readonly QueuedEvent[]): boolean => (batch[0] ?? event).stream !== event.stream;
