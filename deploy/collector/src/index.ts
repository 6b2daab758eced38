// The whole collector Worker: ingest at /v1/batch, the feed at /feed/v1, GET /health.
import { CollectorPartition, createCollector } from 'outbox/collector';

export { CollectorPartition };
export default createCollector();
