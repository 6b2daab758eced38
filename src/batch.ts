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
  const batch: T[] = [];
  let bytes = 0;
  let stream: string | undefined;
  for (const event of candidates) {
    if (stream !== undefined && event.stream !== stream) continue;
    if (busy.has(orderingKey(event))) continue;
    // +1 for the comma that joins events in the body.
    if (batch.length > 0 && bytes + event.bytes + 1 > limits.maxBytes) break;
    stream = event.stream;
    batch.push(event);
    bytes += event.bytes + 1;
    if (batch.length >= limits.maxEvents) break;
  }
  return batch;
}
