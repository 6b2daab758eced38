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
      `| ${row.layout ?? 'spread'} | ${row.partitions} | ${fmt(row.ingestCpuMsPer1000)} | ${fmt(row.feedCpuMsPer1000)} | ${fmt(Math.round(row.ingestEventsPerSec))} | ${fmt(Math.round(row.ingestRequestsPerSec))} | ${fmt(row.ingestP50Ms, 1)} / ${fmt(row.ingestP99Ms, 1)} | ${fmt(Math.round(row.feedEventsPerSec))} | ${fmt(Math.round(row.startMs))} |`,
  );
  const seq = c.sequential;
  const sequential = seq ? `\n\nOne request at a time to one partition (no queueing: the cost of a commit): median ${fmt(seq.oneEventP50Ms, 2)} ms for 1 event, ${fmt(seq.batchP50Ms, 2)} ms for ${cfg.batchEvents}.` : '';
  const m = c.machine;
  const when = m ? ` Measured ${m.date.slice(0, 16).replace('T', ' ')} UTC at commit ${m.commit}, load average ${m.loadAverageAtStart.join(', ')} at the start${busy(m) ? ' (**busy machine**: other processes shared the 2 cores)' : ''}.` : '';
  return `\`npm run collector\`'s Worker in one local workerd, its Durable Objects' SQLite on disk under a fresh \`--data\`. Ingest:
${fmt(cfg.events)} events in requests of ${cfg.batchEvents} (uncompressed JSON, each with a \`rid\`), ${cfg.concurrency} requests in flight, each answered
after its commit. Layout *one-source*: a request's events share a sourceId (a browser's batch), so it goes to one partition
and commits once with its receipt. *spread*: its events come from ${cfg.sources} sourceIds (a server's batch), so it goes to
every partition and its receipt commits after them. *workerd CPU* is the user + system time of the collector's workerd
process (from /proc): unlike the wall-clock rates, a busy machine does not inflate it, so 1000 divided by it is the
events/s one core sustains. Feed: every event read back with
\`pagesizehint=${cfg.pageSize}\` over all partitions in one chain of requests. Median of ${cfg.runs} run(s).${when}

| layout | partitions | workerd CPU ms / 1000 events ingested | workerd CPU ms / 1000 events read | ingest events/s (wall) | ingest requests/s | request p50 / p99 ms | feed read events/s (wall) | start to /health ms |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}${sequential}

Locally every partition runs in the same workerd process on the same cores, so more partitions gain nothing, and a
*spread* request costs one commit per partition it touches: these figures are what **one** partition sustains on one
core, and the cost of fanning out. On Cloudflare each partition is its own Durable Object, placed and run
independently, which is what scales (docs/collector.md).`;
}
