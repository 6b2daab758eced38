import type { DropReason } from './errors.js';

/** Counters of one tracker, as `stats()` returns them. */
export interface TrackerStats {
  /** Calls to `track()` (and events handed to `send()`). */
  tracked: number;
  /** Events acknowledged by the collector. */
  sent: number;
  /** Event deliveries retried (an event retried twice counts twice). */
  retried: number;
  /** Events waiting (in flight included). */
  queued: number;
  /** UTF-8 bytes of the waiting events. */
  queuedBytes: number;
  /** Events in requests under way. */
  inFlight: number;
  /** Events dropped, by reason. Nothing leaves the outbox unacknowledged without a count here. */
  dropped: Record<DropReason, number>;
  /** Requests made (attempts, retries included). */
  requests: number;
  /** Requests that failed. */
  failedRequests: number;
  /** Bytes put on the wire (after compression), acknowledged requests only. */
  bytesSent: number;
  /** Latency of the last acknowledged request, in milliseconds. */
  lastLatencyMs: number;
  /** Mean latency of acknowledged requests, in milliseconds. */
  meanLatencyMs: number;
  /** Events handed to the unload path (beacon, fetchLater, keepalive). */
  unloadSent: number;
  /**
   * Errors not passed to `onError` because `onError` kept re-entering the tracker (a `track()`
   * from `onError` while the queue is full): the losses they describe are still counted above.
   */
  unreportedErrors: number;
}

/** The mutable counters behind `stats()`. */
export type StatsCounters = Omit<TrackerStats, 'queued' | 'queuedBytes' | 'inFlight' | 'meanLatencyMs'> & {
  latencyTotalMs: number;
  acknowledgedRequests: number;
};

/** Fresh counters, all zero. */
export function createStatsCounters(): StatsCounters {
  return {
    tracked: 0,
    sent: 0,
    retried: 0,
    dropped: { overflow: 0, invalid: 0, too_large: 0, rejected: 0, ruled: 0, expired: 0, corrupt: 0 },
    requests: 0,
    failedRequests: 0,
    bytesSent: 0,
    lastLatencyMs: 0,
    latencyTotalMs: 0,
    acknowledgedRequests: 0,
    unloadSent: 0,
    unreportedErrors: 0,
  };
}

/** A snapshot for `stats()`: copies, so callers can keep and compare them. */
export function snapshotStats(counters: StatsCounters, queued: number, queuedBytes: number, inFlight: number): TrackerStats {
  const { latencyTotalMs, acknowledgedRequests, ...rest } = counters;
  return {
    ...rest,
    dropped: { ...counters.dropped },
    queued,
    queuedBytes,
    inFlight,
    meanLatencyMs: acknowledgedRequests ? Math.round(latencyTotalMs / acknowledgedRequests) : 0,
  };
}
