// Bindings of the `workers` project (see vitest.config.mts), for `import { env } from 'cloudflare:workers'`.
declare namespace Cloudflare {
  interface Env {
    OUTBOX_KV: KVNamespace;
    OUTBOX_EVENTS: Queue<string>;
    COLLECTOR_ENDPOINT: string;
    CONTROL_URL: string;
    DEMO_URL: string;
    DEMO_QUEUE_URL: string;
  }
}
