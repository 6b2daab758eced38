// A Worker that tracks a `page_view` per request and delivers it after the response, through
// `ctx.waitUntil`. Undelivered events spill to KV and a later request or the cron drains them.
// With DELIVERY = "queue" the events go through a Cloudflare Queue, and the `queue` handler below
// (the consumer) posts them to the collector. Types: @cloudflare/workers-types (or `wrangler types`).
import { withTracker } from 'outbox/worker';
import { createWorkersKvStorage } from 'outbox/storage/workers-kv';
import { createQueuesTransport, forwardQueueBatch } from 'outbox/transport/queues';

interface Env {
  COLLECTOR_ENDPOINT: string;
  DELIVERY?: 'http' | 'queue';
  OUTBOX_KV: KVNamespace;
  OUTBOX_EVENTS?: Queue<string>;
}

const log = (error: Error) => console.warn(error.message);

export default withTracker(
  (env: Env) => ({
    endpoint: env.COLLECTOR_ENDPOINT,
    sourceId: 'worker-demo',
    transport: env.DELIVERY === 'queue' && env.OUTBOX_EVENTS ? createQueuesTransport(env.OUTBOX_EVENTS) : undefined,
    spill: createWorkersKvStorage(env.OUTBOX_KV),
    onError: log,
  }),
  {
    async fetch(request: Request, env: Env, ctx: ExecutionContext, tracker) {
      const url = new URL(request.url);
      if (url.pathname === '/favicon.ico') return new Response(null, { status: 404 });
      tracker.track('page_view', {
        path: url.pathname,
        method: request.method,
        country: request.cf?.country,
        userAgent: request.headers.get('user-agent') ?? undefined,
      });
      const body = `outbox Worker demo: tracked page_view for ${url.pathname}; it reaches ${env.COLLECTOR_ENDPOINT} after this response (${env.DELIVERY ?? 'http'}).\n`;
      return new Response(body, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
    },
    // The consumer of OUTBOX_EVENTS (DELIVERY = "queue"): posts each batch of messages to the collector.
    async queue(batch: MessageBatch<unknown>, env: Env) {
      await forwardQueueBatch(batch, { endpoint: env.COLLECTOR_ENDPOINT, onError: log });
    },
  },
) satisfies ExportedHandler<Env>;
