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
 * the consumer (`forwardQueueBatch` from `outbox/worker`) posts them to the collector. A batch
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
  const emptyBytes = head.length + 2 + limits.metadataBytes; // head is ASCII; 2 for "]}"
  const messages: QueueMessageDraft[] = [];
  let parts: string[] = [];
  let bytes = emptyBytes;
  const close = () => {
    if (parts.length) messages.push({ body: `${head}${parts.join(',')}]}`, bytes });
    parts = [];
    bytes = emptyBytes;
  };
  for (const event of events) {
    if (emptyBytes + event.bytes > limits.maxMessageBytes) return undefined;
    const added = event.bytes + (parts.length ? 1 : 0);
    if (bytes + added > limits.maxMessageBytes) close();
    bytes += event.bytes + (parts.length ? 1 : 0);
    parts.push(event.json);
  }
  close();
  return messages;
}

/** Groups messages into `sendBatch` calls within the count and byte limits, in order. Pure. */
export function groupMessages(messages: readonly QueueMessageDraft[], limits = queuesLimits): QueueMessageDraft[][] {
  const groups: QueueMessageDraft[][] = [];
  let group: QueueMessageDraft[] = [];
  let bytes = 0;
  for (const message of messages) {
    if (group.length && (group.length >= limits.maxBatchMessages || bytes + message.bytes > limits.maxBatchBytes)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(message);
    bytes += message.bytes;
  }
  if (group.length) groups.push(group);
  return groups;
}

/**
 * Reads a message body written by {@link createQueuesTransport}: the events it carries, or
 * undefined when the message is not an outbox batch. Accepts the text body, or the parsed object
 * if the message was sent with contentType `json`.
 */
export function decodeQueueMessage(body: unknown): Record<string, unknown>[] | undefined {
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
  return events.every((event) => event && typeof event === 'object' && typeof event.id === 'string' && typeof event.name === 'string') ? events : undefined;
}
