import { maxBodyBytes, maxBatchEvents as wireMaxBatchEvents } from './wire.js';
import type { OutboxError } from './errors.js';
import type { StorageAdapter } from './storage/storage.js';
import type { Transport } from './transport/transport.js';

/** Retry policy for failed deliveries (network errors, timeouts, 408, 429, 5xx). */
export interface RetryOptions {
  /**
   * Retries per batch before its events are dropped as `expired`. By default retryable failures
   * never drop: the queue caps bound memory instead.
   * @default Infinity
   */
  limit?: number;
  /** First backoff ceiling; the n-th retry waits a random time in [0, baseMs * 2^n) (full jitter). @default 1000 */
  baseMs?: number;
  /** Ceiling of one client backoff delay (a server's `Retry-After` is capped by `maxRetryAfterMs` instead). @default 300000 */
  maxDelayMs?: number;
}

/**
 * The timer functions the tracker core uses, injectable so a simulation runs it on a simulated
 * clock. Delays passed are integers in [0, 2^31-1].
 */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The `fetch` the HTTP transport calls (the platform's, or a simulated network). */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/**
 * Signs the exact bytes of a request body. It must be synchronous, because the unload path has
 * no time to await `crypto.subtle`. `createHmacSigner(key)` from `outbox/sign` makes one.
 */
export type Signer = (body: Uint8Array) => string;

/** Options of one stream (a named destination, like an ironSource atom stream). */
export interface StreamOptions {
  /** Where this stream's batches go. @default the tracker's `endpoint` */
  endpoint?: string;
  /** Signs this stream's requests. @default the tracker's `signer` */
  signer?: Signer;
}

/** Options of {@link createTracker}. Only `endpoint` is required. */
export interface TrackerOptions {
  /** The collector URL that receives wire format v1 batches (POST). Required unless `transport` is given. */
  endpoint?: string;
  /** Source of every event that names none (a device, customer or user id). @default undefined */
  sourceId?: string;
  /**
   * Where queued events are kept until acknowledged. `false` keeps them in memory only.
   * @default IndexedDB in browsers where usable, else memory
   */
  storage?: StorageAdapter | false;
  /** Separates trackers that share one storage (and, in browsers, one IndexedDB database). @default 'outbox' */
  name?: string;
  /** The timer sends every this many milliseconds when at least `minBatchEvents` wait. @default 5000 */
  flushIntervalMs?: number;
  /** The timer sends only when at least this many events wait. A full batch always goes at once. @default 1 */
  minBatchEvents?: number;
  /** Events per request. @default 100 */
  maxBatchEvents?: number;
  /** Bytes of events per request (before compression). @default 65536 */
  maxBatchBytes?: number;
  /** One serialized event larger than this is refused as `too_large`. @default 32768 */
  maxEventBytes?: number;
  /** Queue capacity in events; the oldest are evicted first (`overflow`). @default 10000 */
  maxQueueEvents?: number;
  /** Queue capacity in bytes of serialized events; the oldest are evicted first. @default 5242880 */
  maxQueueBytes?: number;
  /** Batches in flight at once. Events of one `sourceId` (and stream) are never in two at once, so they keep their order. @default 2 */
  concurrency?: number;
  /**
   * Body compression: gzip through the platform's `CompressionStream`, plain where it is missing
   * or fails. Unload requests are always plain (they must go synchronously). @default 'gzip'
   */
  compression?: 'gzip' | 'none';
  /** Bodies smaller than this are sent uncompressed: gzip does not pay for them. @default 1024 */
  compressAboveBytes?: number;
  /** Per-request timeout. @default 10000 */
  timeoutMs?: number;
  /** Retry policy, or just its `limit`. @default { limit: Infinity, baseMs: 1000, maxDelayMs: 300000 } */
  retry?: number | RetryOptions;
  /**
   * Longest pause a server's `Retry-After` can impose on the queue. A separate setting from
   * `retry.maxDelayMs`: a client tuned for fast backoff still honours a server asking for a pause.
   * @default 3600000
   */
  maxRetryAfterMs?: number;
  /**
   * Extra request headers (an API key). Opt-in: custom headers make cross-origin requests need a
   * CORS preflight, and the unload path (which cannot set headers) omits them.
   * @default {}
   */
  headers?: Record<string, string>;
  /** Signs every request body (`?sig=` HMAC). @default undefined */
  signer?: Signer;
  /** Per-stream endpoints and signers; streams not listed use the tracker's. @default {} */
  streams?: Record<string, StreamOptions>;
  /** Delivers batches instead of HTTP (for example a Cloudflare Queue). @default HTTP (fetch) */
  transport?: Transport;
  /** Emit an `outbox.client_stats` event every this many milliseconds; 0 turns it off. @default 0 */
  clientStatsIntervalMs?: number;
  /** In browsers, send what is queued when the page is hidden or unloaded. @default true */
  unload?: boolean;
  /** In browsers, let one tab of an origin send for all (Web Locks). @default true */
  coordinateTabs?: boolean;
  /** Receives every error: drops (with the events), retries, storage and unload problems. @default undefined */
  onError?: (error: OutboxError) => void;
  /** The clock, injectable for tests. @default Date.now */
  now?: () => number;
  /** Randomness for backoff jitter, injectable for tests. @default Math.random */
  random?: () => number;
  /** The timers of the tracker core, injectable for a simulated clock. @default globalThis's setTimeout/clearTimeout */
  timers?: Timers;
  /** The `fetch` of the HTTP transport, injectable for a simulated network. @default globalThis.fetch (looked up per request) */
  fetch?: FetchFunction;
}

/** {@link TrackerOptions} with every default filled in. */
export interface ResolvedOptions
  extends Required<Omit<TrackerOptions, 'sourceId' | 'storage' | 'signer' | 'transport' | 'onError' | 'retry'>> {
  /** '' when a custom transport delivers (it needs no URL). */
  endpoint: string;
  sourceId: string | undefined;
  storage: StorageAdapter | false | undefined;
  signer: Signer | undefined;
  transport: Transport | undefined;
  onError: ((error: OutboxError) => void) | undefined;
  retry: Required<RetryOptions>;
}

/** The defaults, in one place. */
export const defaults = {
  name: 'outbox',
  flushIntervalMs: 5000,
  minBatchEvents: 1,
  maxBatchEvents: 100,
  maxBatchBytes: 64 * 1024,
  maxEventBytes: 32 * 1024,
  maxQueueEvents: 10_000,
  maxQueueBytes: 5 * 1024 ** 2,
  concurrency: 2,
  compression: 'gzip',
  compressAboveBytes: 1024,
  timeoutMs: 10_000,
  retry: { limit: Infinity, baseMs: 1000, maxDelayMs: 300_000 },
  maxRetryAfterMs: 3_600_000,
  headers: {},
  streams: {},
  clientStatsIntervalMs: 0,
  unload: true,
  coordinateTabs: true,
} as const;

/**
 * Stored leases are cut to at most max(2 x timeoutMs, this) from now (the unload path holds 10 s);
 * the scheduler rescans at least that often, so an expired lease frees its events.
 */
export const minLeaseCapMs = 10_000;

/** Longest delay a timer can take: larger ones fire at once in browsers and Node (a 32-bit signed int). */
export const maxTimerDelayMs = 2 ** 31 - 1;

// Looked up per call, so a `fetch` replaced after createTracker (a test, a polyfill) is used.
const platformFetch: FetchFunction = (input, init) => fetch(input, init);
const platformTimers: Timers = {
  setTimeout: (callback, delayMs) => {
    const handle = setTimeout(callback, delayMs);
    // In Node, a pending tracker timer must not keep the process alive; close() or flush() delivers.
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

// Counts and delays must be numbers >= 1, or >= 0 for these (0 = none or off). A count must be
// whole (Infinity allowed for capacities); a delay (a name ending in Ms) is clamped to a timer's range.
const zeroAllowed = /^(min|comp|client|maxRetry|base|maxDelay|limit)/;

/**
 * Fills in defaults and checks values, throwing a `RangeError` that names the option on a
 * misconfiguration (at setup, never in `track()`). Delays above 2^31-1 ms (Infinity included)
 * are clamped to it: a timer cannot wait longer, and a larger value fires at once.
 */
export function resolveOptions(options: TrackerOptions): ResolvedOptions {
  if (!options || (!options.transport && (typeof options.endpoint !== 'string' || !options.endpoint))) {
    throw new TypeError('[outbox] createTracker needs an `endpoint` URL (or a `transport`)');
  }
  const retry = typeof options.retry === 'number' ? { limit: options.retry } : options.retry;
  const base = { ...defaults, endpoint: '', now: Date.now, random: Math.random, timers: platformTimers, fetch: platformFetch };
  const resolved = { ...base, ...stripUndefined(options), retry: { ...defaults.retry, ...stripUndefined(retry ?? {}) } } as ResolvedOptions;
  // Every number and function of the defaults names an option to check, the retry and timer ones
  // included: it must keep its default's type (Object(): timers that are not an object have none).
  const checks = [
    [resolved, base, ''],
    [resolved.retry, defaults.retry, 'retry.'],
    [Object(resolved.timers), platformTimers, 'timers.'],
  ] as [Record<string, unknown>, Record<string, unknown>, string][];
  for (const [owner, reference, prefix] of checks) {
    for (const key in reference) {
      const kind = typeof reference[key];
      const value = owner[key] as number;
      if (kind !== 'number' && kind !== 'function') continue;
      const delay = key.endsWith('Ms');
      if (typeof value !== kind || (kind === 'number' && (!(value >= (zeroAllowed.test(key) ? 0 : 1)) || (!delay && value < Infinity && value % 1)))) fail(prefix + key, value);
      if (delay) owner[key] = Math.min(value, maxTimerDelayMs);
    }
  }
  // A collector refuses more events, or a larger body, per request than the wire format allows
  // (a 413 per batch); 100 bytes are left for the body's envelope.
  resolved.maxBatchEvents = Math.min(resolved.maxBatchEvents, wireMaxBatchEvents);
  resolved.maxBatchBytes = Math.min(resolved.maxBatchBytes, maxBodyBytes - 100);
  // A min batch above the max could never be reached; Samsara sanitizes the same way.
  resolved.minBatchEvents = Math.min(Math.max(1, resolved.minBatchEvents), resolved.maxBatchEvents);
  resolved.maxEventBytes = Math.min(resolved.maxEventBytes, resolved.maxBatchBytes, resolved.maxQueueBytes);
  return resolved;
}

function fail(key: string, value: unknown): never {
  throw new RangeError(`[outbox] option ${key} is invalid: ${String(value)}`);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
