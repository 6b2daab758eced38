// The public surface of 'outbox', each export by name. Adapters that pull in a dependency are
// subpath exports (outbox/storage/indexeddb, outbox/storage/workers-kv, ...).
export { createTracker } from './create-tracker.js';
export type { Tracker, SendEventInput, SendResult, ConnectionTestResult } from './tracker.js';
export type { TrackerOptions, RetryOptions, StreamOptions, Signer, Timers, FetchFunction } from './options.js';
export { defaults } from './options.js';
export type { TrackOptions } from './event.js';
export { OutboxError, isOutboxError } from './errors.js';
export type { DropReason, OutboxErrorCode, OutboxEventRecord } from './errors.js';
export type { TrackerStats } from './stats.js';
export type { DropRule, ActiveRule } from './rules.js';
export type { StorageAdapter } from './storage/storage.js';
export { createMemoryStorage } from './storage/memory.js';
export type { Transport, WireBatch, SendOutcome } from './transport/transport.js';
export { createHttpTransport } from './transport/http.js';
