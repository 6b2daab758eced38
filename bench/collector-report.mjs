// The durable collector's section of docs/benchmarks.md (figures from bench/collector.mjs).
import { busy } from './machine.mjs';
import { fmt } from './stats.mjs';

/** Markdown for `r.collector`, or a line saying it was not measured. */
export function collectorSection(r) {
  const c = r.collector;
  if (!c?.rows?.length) return 'Not measured in this run (`node bench/collector.mjs` measures it alone).';
  const cfg = c.config;
  const rows = c.rows.map(
    (row) =>
      `| ${row.partitions} | ${fmt(Math.round(row.ingestEventsPerSec))} | ${fmt(Math.round(row.ingestRequestsPerSec))} | ${fmt(row.ingestP50Ms, 1)} / ${fmt(row.ingestP99Ms, 1)} | ${fmt(Math.round(row.feedEventsPerSec))} | ${fmt(Math.round(row.startMs))} |`,
  );
  const m = c.machine;
  const when = m ? ` Measured ${m.date.slice(0, 16).replace('T', ' ')} UTC at commit ${m.commit}, load average ${m.loadAverageAtStart.join(', ')} at the start${busy(m) ? ' (**busy machine**: other processes shared the 2 cores)' : ''}.` : '';
  return `\`npm run collector\`'s Worker in one local workerd, its Durable Objects' SQLite on disk under a fresh \`--data\`. Ingest:
${fmt(cfg.events)} events in requests of ${cfg.batchEvents} (uncompressed JSON, ${cfg.sources} sourceIds, so a request spans every
partition), ${cfg.concurrency} requests in flight, each answered after its commit. Feed: every event read back with
\`pagesizehint=${cfg.pageSize}\` over all partitions in one chain of requests. Median of ${cfg.runs} run(s).${when}

| partitions | ingest events/s | ingest requests/s | request p50 / p99 ms | feed read events/s | start to /health ms |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Locally every partition runs in the same workerd process on the same cores, so more partitions cost more (each request
fans out to one object per partition it touches) and gain nothing: these figures are what **one** partition sustains
on one core and the per-partition overhead. On Cloudflare each partition is its own Durable Object, placed and run
independently, which is what scales (docs/collector.md).`;
}
