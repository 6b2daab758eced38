// Bindings of the `collector-worker` project (see vitest.config.mts).
declare namespace Cloudflare {
  interface Env {
    OUTBOX_PARTITIONS: DurableObjectNamespace;
    OUTBOX_ANALYTICS: AnalyticsEngineDataset;
  }
}
