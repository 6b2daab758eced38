import { OutboxError } from '../errors.js';
import type { TrackerOptions } from '../options.js';
import { createTrackerOn, type SendEventInput } from '../tracker.js';
import { serverPlatform } from '../integration.js';
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
 * Reads a message body written by {@link createQueuesTransport} (or a spilled chunk's events):
 * the events as `send()` input, keeping their ids and timestamps so the collector de-duplicates
 * re-sent ones. Undefined when it is not an outbox batch. Takes the text body, or the parsed
 * object of a message sent with contentType `json`.
 */
export function decodeQueueMessage(body: unknown): SendEventInput[] | undefined {
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
  const inputs: SendEventInput[] = [];
  for (const event of events as Record<string, unknown>[]) {
    if (!event || typeof event.id !== 'string' || typeof event.name !== 'string') return undefined;
    const { id, name, timestamp, sourceId, stream, properties } = event;
    inputs.push({ id, name, timestamp, sourceId, stream, properties } as SendEventInput);
  }
  return inputs;
}

/** The part of a queue consumer's message the forwarder uses (a `Message` fits). */
export interface QueueMessageLike {
  readonly body: unknown;
  ack(): void;
  retry(): void;
}

/**
 * Options of {@link forwardQueueBatch}: the options of the tracker that posts to the collector
 * (`endpoint`, `onError`...; it keeps events in memory, so no `storage`), and a time limit.
 */
export interface ForwardQueueOptions extends Omit<TrackerOptions, 'storage'> {
  /** Time to get the batch acknowledged before its messages go back to the queue. @default 20000 */
  flushTimeoutMs?: number;
}

/** What {@link forwardQueueBatch} did with a batch of messages. */
export interface ForwardResult {
  /** Messages acknowledged: their events reached the collector, or were dropped and reported. */
  acked: number;
  /** Messages handed back to the queue for redelivery (the queue's `max_retries`, then its dead-letter queue). */
  retried: number;
  /** Messages that were not outbox batches: acknowledged and reported as `rejected`. */
  malformed: number;
}

/**
 * The consumer side: posts the events of a batch of messages to the collector in wire format v1,
 * through a memory-only tracker (batching, gzip, retries, counted drops), then acknowledges every
 * message, or hands every message back to the queue if some events did not get through within
 * `flushTimeoutMs`. A retry may re-post events that did arrive: the collector removes them by id.
 *
 * @example export default { queue: (batch, env) => forwardQueueBatch(batch, { endpoint: env.COLLECTOR_ENDPOINT }) };
 */
export async function forwardQueueBatch(batch: { readonly messages: readonly QueueMessageLike[] }, options: ForwardQueueOptions): Promise<ForwardResult> {
  const { flushTimeoutMs = 20_000, ...trackerOptions } = options;
  const ours: QueueMessageLike[] = [];
  const inputs: SendEventInput[] = [];
  let malformed = 0;
  for (const message of batch.messages) {
    const events = decodeQueueMessage(message.body);
    if (events) {
      ours.push(message);
      inputs.push(...events);
      continue;
    }
    // No retry can ever deliver it: acknowledge it, and say so.
    malformed++;
    message.ack();
    try {
      trackerOptions.onError?.(new OutboxError('rejected', 'a queue message is not an outbox batch (expected {"events":[…]}); acknowledged without delivery'));
    } catch {
      // The host's callback failing must not stop the batch.
    }
  }
  let delivered = true;
  if (inputs.length) {
    const tracker = createTrackerOn(serverPlatform, { ...trackerOptions, storage: false });
    delivered = (await tracker.send(inputs, flushTimeoutMs)).pending === 0;
    await tracker.close(0); // stops its retry timer; what is pending goes back to the queue below
  }
  for (const message of ours) {
    if (delivered) message.ack();
    else message.retry();
  }
  return { acked: malformed + (delivered ? ours.length : 0), retried: delivered ? 0 : ours.length, malformed };
}
