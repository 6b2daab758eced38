/**
 * `outbox/collector`: the durable collector for Cloudflare Workers (Durable Objects with SQLite
 * storage). A Worker that is nothing else:
 *
 * ```ts
 * import { createCollector, CollectorPartition } from 'outbox/collector';
 * export default createCollector();
 * export { CollectorPartition };
 * ```
 *
 * Deploy and local use: docs/collector.md.
 */
export { createCollector } from '../collector/create-collector.js';
export type { Collector } from '../collector/create-collector.js';
export { CollectorPartition } from '../collector/collector-partition.js';
export type { CollectorOptions, CollectorEnv } from '../collector/collector-options.js';
export type { DurableObjectStateLike, DurableObjectNamespaceLike, SqlStorageLike, SqlCursorLike, SqlValue } from '../collector/durable-object-types.js';
export type { StreamKeys } from '../collector/verify-signature.js';
export { fnv1a32, partitionOf } from '../collector/partition-of.js';
