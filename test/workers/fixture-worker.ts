// The Worker beside the tests: the consumer of the local `outbox-events` queue, forwarding what
// createQueuesTransport produced to the collector, as a user's consumer Worker would.
import { forwardQueueBatch } from 'outbox/transport/queues';

export default {
  async queue(batch: MessageBatch<unknown>, env: Cloudflare.Env): Promise<void> {
    await forwardQueueBatch(batch, { endpoint: env.COLLECTOR_ENDPOINT, retry: { baseMs: 50 }, flushTimeoutMs: 5000 });
  },
} satisfies ExportedHandler<Cloudflare.Env>;
