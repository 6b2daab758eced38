// The Worker the collector-worker tests run next to: the collector as docs/collector.md deploys it.
import { CollectorPartition, createCollector } from 'outbox/collector';

export { CollectorPartition };
export default createCollector({ feedToken: 'feed-token' });

// The real Workers types must fit the collector's structural ones (checked by tsc only).
const partition = (ctx: DurableObjectState, env: Cloudflare.Env) => new CollectorPartition(ctx, env);
const handler: ExportedHandler<Cloudflare.Env> = createCollector();
void partition;
void handler;
