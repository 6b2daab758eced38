import type { WireRule } from '../wire.js';
import type { DurableObjectNamespaceLike } from './durable-object-types.js';
import { normalizeRules } from './drop-rules.js';
import type { StreamKeys } from './verify-signature.js';

/**
 * Options of {@link createCollector}. Each one left out is read from the Worker's environment
 * (the variable named), so one deploy is configured in `wrangler.jsonc` and secrets alone.
 */
export interface CollectorOptions {
  /** Partitions (Durable Objects), 1 to 256; fixed for the life of a feed. Env `OUTBOX_PARTITION_COUNT`. @default 4 */
  partitionCount?: number;
  /** Name of the Durable Object namespace binding of {@link CollectorPartition}. @default 'OUTBOX_PARTITIONS' */
  binding?: string;
  /** Name of an optional Workers Analytics Engine dataset binding: every ingest outcome is counted there by reason. @default 'OUTBOX_ANALYTICS' */
  analyticsBinding?: string;
  /** HMAC keys by stream (`'*'`: every other stream). Env `OUTBOX_KEYS` (JSON object, a secret). @default {} (no signatures) */
  keys?: StreamKeys;
  /** Bearer token of feed consumers; without one the feed answers 403. Env `OUTBOX_FEED_TOKEN` (a secret). @default none */
  feedToken?: string;
  /** Origins whose pages may send (CORS, never with credentials); `'*'` is any. Env `OUTBOX_ALLOWED_ORIGINS` (comma-separated). @default ['*'] */
  allowedOrigins?: string[];
  /** Drop rules: matching events are answered as `ruled` and not stored. Env `OUTBOX_RULES` (JSON array). @default [] */
  rules?: WireRule[];
  /** Path of ingest (POST batches, GET receipts). @default '/v1/batch' */
  ingestPath?: string;
  /** Path of the ZeroEventHub feed. @default '/feed/v1' */
  feedPath?: string;
  /** How long a receipt is kept, in ms. @default 86_400_000 (24 h) */
  receiptTtlMs?: number;
  /** Receipts one partition keeps at most (the oldest go first). @default 100_000 */
  maxReceipts?: number;
  /**
   * Longest time a request body may take to arrive, in ms: a body that never ends (or trickles)
   * gets a 408 instead of holding the request open for ever. @default 30_000
   */
  bodyTimeoutMs?: number;
  /** Clock (tests). @default Date.now */
  now?: () => number;
}

/** Most partitions a collector may have. */
export const maxPartitionCount = 256;

/** The options with every default applied and checked. */
export interface CollectorConfig {
  partitionCount: number;
  binding: string;
  analyticsBinding: string;
  keys: StreamKeys;
  feedToken: string | undefined;
  allowedOrigins: string[];
  rules: WireRule[];
  ingestPath: string;
  feedPath: string;
  receiptTtlMs: number;
  maxReceipts: number;
  bodyTimeoutMs: number;
  now: () => number;
}

/** The Worker environment the collector reads (bindings and variables): any `Env` object. */
export type CollectorEnv = object;

/**
 * Applies defaults, reading what `options` leaves out from `env`; throws a TypeError naming
 * the bad setting (a misconfigured deploy answers 500 with it, never guesses).
 */
export function resolveCollectorConfig(options: CollectorOptions, envObject: CollectorEnv): CollectorConfig {
  const env = envObject as Record<string, unknown>;
  const partitionCount = options.partitionCount ?? numberFromEnv(env, 'OUTBOX_PARTITION_COUNT') ?? 4;
  // A long-polled feed read calls every partition twice and a receipt lookup once: 2 × 256 stays
  // inside a paid Worker invocation's subrequests (1,000 or more; 50 on the Free plan: use ≤ 16).
  if (!Number.isInteger(partitionCount) || partitionCount < 1 || partitionCount > maxPartitionCount) {
    throw new TypeError(`[outbox] collector partitionCount must be an integer in 1..${maxPartitionCount}, got ${partitionCount}`);
  }
  const keys = options.keys ?? jsonFromEnv(env, 'OUTBOX_KEYS') ?? {};
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) throw new TypeError('[outbox] collector keys must be an object of stream to key');
  for (const [stream, key] of Object.entries(keys)) {
    if (typeof key !== 'string' || !key) throw new TypeError(`[outbox] collector keys["${stream}"] must be a non-empty string`);
  }
  const feedToken = options.feedToken ?? stringFromEnv(env, 'OUTBOX_FEED_TOKEN');
  const origins = options.allowedOrigins ?? stringFromEnv(env, 'OUTBOX_ALLOWED_ORIGINS')?.split(',').map((o) => o.trim()).filter(Boolean) ?? ['*'];
  return {
    partitionCount,
    binding: options.binding ?? 'OUTBOX_PARTITIONS',
    analyticsBinding: options.analyticsBinding ?? 'OUTBOX_ANALYTICS',
    keys: keys as StreamKeys,
    feedToken: feedToken || undefined,
    allowedOrigins: origins,
    rules: normalizeRules(options.rules ?? jsonFromEnv(env, 'OUTBOX_RULES')),
    ingestPath: options.ingestPath ?? '/v1/batch',
    feedPath: options.feedPath ?? '/feed/v1',
    receiptTtlMs: options.receiptTtlMs ?? 86_400_000,
    maxReceipts: options.maxReceipts ?? 100_000,
    bodyTimeoutMs: options.bodyTimeoutMs ?? 30_000,
    now: options.now ?? Date.now,
  };
}

/** The partitions' namespace from `env`, or a TypeError naming the missing binding. */
export function partitionNamespace(config: CollectorConfig, env: CollectorEnv): DurableObjectNamespaceLike {
  const namespace = (env as Record<string, unknown>)[config.binding] as DurableObjectNamespaceLike | undefined;
  if (!namespace || typeof namespace.idFromName !== 'function') {
    throw new TypeError(`[outbox] collector: no Durable Object binding "${config.binding}" (see docs/collector.md)`);
  }
  return namespace;
}

function stringFromEnv(env: Record<string, unknown>, name: string): string | undefined {
  const value = env[name];
  return typeof value === 'string' ? value : undefined;
}

function numberFromEnv(env: Record<string, unknown>, name: string): number | undefined {
  const value = env[name];
  return typeof value === 'number' ? value : typeof value === 'string' && value !== '' ? Number(value) : undefined;
}

function jsonFromEnv(env: Record<string, unknown>, name: string): unknown {
  const value = env[name];
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new TypeError(`[outbox] collector: ${name} is not valid JSON`);
  }
}
