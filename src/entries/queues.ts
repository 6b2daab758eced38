// outbox/transport/queues: the Cloudflare Queues transport (transport/queues.ts) and its consumer,
// which posts the messages to the collector through a tracker of its own. The consumer lives in
// this entry point, not beside the transport: a transport never constructs the tracker it serves.
import { OutboxError } from '../errors.js';
import { serverPlatform } from '../integration.js';
import type { TrackerOptions } from '../options.js';
import { createReporter } from '../reporter.js';
import { createTrackerOn } from '../tracker.js';
import { decodeQueueMessage, type DecodedEvent } from '../transport/queues.js';

export { createQueuesTransport, cutMessages, decodeQueueMessage, groupMessages, queuesLimits } from '../transport/queues.js';
export type { DecodedEvent, QueueMessageDraft, QueueProducerLike } from '../transport/queues.js';

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
  const inputs: DecodedEvent[] = [];
  let malformed = 0;
  // The host's callback failing must not stop the batch.
  const report = createReporter(trackerOptions.onError);
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
    report(new OutboxError('rejected', 'a queue message is not an outbox batch (expected {"events":[…]}); acknowledged without delivery'));
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
