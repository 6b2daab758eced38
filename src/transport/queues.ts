// The Queues transport and its message codec. The consumer, which builds a tracker to post the
// messages on, is an entry point's (entries/queues.ts): a transport never constructs its host.
import { cutBySize, joinedBytes } from '../cut-by-size.js';
import type { TrackOptions } from '../event.js';
import type { SendOutcome, Transport, WireBatch } from './transport.js';

/**
 * The part of a Cloudflare Queue producer binding the transport uses. A `Queue` from
 * `@cloudflare/workers-types` fits it.
 */
export interface QueueProducerLike {
  sendBatch(messages: Iterable<{ body: string; contentType?: 'text' }>): Promise<unknown>;
}

/**
 * Production limits of Cloudflare Queues (developers.cloudflare.com/queues/platform/limits; 1 KB
 * is 1000 bytes there). Local Miniflare accepts batches up to ~288 KB, so we size batches
 * ourselves rather than learn the real limit from a failed `sendBatch` in production.
 */
export const queuesLimits = {
  /** One message, internal metadata included. */
  maxMessageBytes: 128_000,
  /** Messages per `sendBatch`. */
  maxBatchMessages: 100,
  /** One `sendBatch`, metadata included. */
  maxBatchBytes: 256_000,
  /** "Messages can include up to ~100 bytes of internal metadata that counts towards total message limits." */
  metadataBytes: 100,
} as const;

/**
 * Delivers batches to a Cloudflare Queue instead of HTTP: pass it as the tracker's `transport`.
 * Each message body is a wire format v1 body (`{"sentAt":…,"events":[…]}`, contentType `text`);
 * the consumer ({@link forwardQueueBatch}) posts them to the collector. A batch
 * becomes as few messages and `sendBatch` calls as the limits allow, usually one of each.
 *
 * A failed `sendBatch` is a `retry`: the tracker retries the whole batch, so messages of a batch
 * that spanned several calls may be queued twice (the collector removes duplicates by event id).
 * An event too big for one message is split off and dropped as `too_large`.
 */
export function createQueuesTransport(queue: QueueProducerLike): Transport {
  if (!queue || typeof queue.sendBatch !== 'function') throw new TypeError('[outbox] createQueuesTransport needs a Queue producer binding (env.YOUR_QUEUE)');
  return {
    async send(batch: WireBatch): Promise<SendOutcome> {
      const messages = cutMessages(batch.events, Date.now());
      if (!messages) return { kind: 'split', status: 413, error: new RangeError(`[outbox] an event does not fit in one queue message (${queuesLimits.maxMessageBytes} bytes)`) };
      let bytes = 0;
      try {
        for (const group of groupMessages(messages)) {
          await queue.sendBatch(group.map((message) => ({ body: message.body, contentType: 'text' as const })));
          bytes += group.reduce((sum, message) => sum + message.bytes, 0);
        }
      } catch (error) {
        return { kind: 'retry', error };
      }
      return { kind: 'ok', bytes };
    },
  };
}

/** A message ready to send, with its counted size (body plus metadata allowance). */
export interface QueueMessageDraft {
  body: string;
  bytes: number;
}

/**
 * Cuts events into message bodies that each fit `maxMessageBytes`, in order. Pure. Undefined
 * when one event alone does not fit (the tracker then splits the batch and drops that event).
 */
export function cutMessages(events: readonly { json: string; bytes: number }[], sentAt: number, limits = queuesLimits): QueueMessageDraft[] | undefined {
  const head = `{"sentAt":${sentAt},"events":[`;
  const baseBytes = head.length + 2 + limits.metadataBytes; // head is ASCII; 2 for "]}"
  // A message weighs its envelope and its events with the commas between them: one comma fewer.
  const groups = cutBySize(events, joinedBytes, { maxBytes: limits.maxMessageBytes - baseBytes + 1, maxCount: Infinity, stopAtOversize: true });
  const messages = groups.map((group) => ({
    body: `${head}${group.map((event) => event.json).join(',')}]}`,
    bytes: group.reduce((sum, event) => sum + event.bytes + 1, baseBytes - 1),
  }));
  // The cut stopped before an event too big for a message of its own.
  return groups.reduce((sum, group) => sum + group.length, 0) < events.length ? undefined : messages;
}

/** Groups messages into `sendBatch` calls within the count and byte limits, in order. Pure. */
export function groupMessages(messages: readonly QueueMessageDraft[], limits = queuesLimits): QueueMessageDraft[][] {
  return cutBySize(messages, (message) => message.bytes, { maxBytes: limits.maxBatchBytes, maxCount: limits.maxBatchMessages });
}

/**
 * An event read back from a message, as the tracker's `send()` takes it (its `SendEventInput`):
 * the fields are not checked here, `send()` checks them against wire format v1.
 */
export interface DecodedEvent extends TrackOptions {
  name: string;
  properties?: Record<string, unknown>;
}

/**
 * Reads a message body written by {@link createQueuesTransport} (or a spilled chunk's events):
 * the events as `send()` input, keeping their ids and timestamps so the collector de-duplicates
 * re-sent ones. Undefined when it is not an outbox batch. Takes the text body, or the parsed
 * object of a message sent with contentType `json`.
 */
export function decodeQueueMessage(body: unknown): DecodedEvent[] | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return undefined; // not JSON: not ours
    }
  }
  const events = (value as { events?: unknown } | null)?.events;
  if (!Array.isArray(events)) return undefined;
  const inputs: DecodedEvent[] = [];
  for (const event of events as Record<string, unknown>[]) {
    if (!event || typeof event.id !== 'string' || typeof event.name !== 'string') return undefined;
    const { id, name, timestamp, sourceId, stream, properties } = event;
    inputs.push({ id, name, timestamp, sourceId, stream, properties } as DecodedEvent);
  }
  return inputs;
}
