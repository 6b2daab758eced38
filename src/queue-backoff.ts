import { backoffDelay, type BackoffOptions } from './backoff.js';

/**
 * Whether the collector is failing, as the whole queue sees it. While it fails, the queue sends
 * one request at a time (a probe) after a backoff, instead of every batch backing off on its own:
 * 10,000 sources must not mean 10,000 retry clocks hammering a collector that is down.
 */
export interface QueueBackoff {
  /** Failures in a row since the last success (0: healthy). */
  failures: number;
  /** No request starts before this time (epoch ms). */
  until: number;
  /** When the pause was decided: a clock that went back below it re-bases the pause (see {@link rebase}). */
  since?: number;
}

/** A healthy queue: the state after an acknowledgement, or a refusal (the collector answers). */
export const healthy: QueueBackoff = { failures: 0, until: 0 };

/** The settings a retryable failure is judged by (the tracker's resolved options hold them). */
export interface FailureSettings {
  random: () => number;
  /** The client backoff. */
  retry: BackoffOptions;
  /** Cap of the server's pause (a separate setting from the client backoff cap). */
  maxRetryAfterMs: number;
}

/**
 * The state after a retryable failure at `now`. Pure. The pause is the server's `Retry-After`
 * (`retryAfterMs`, capped at `maxRetryAfterMs`) when given, else a full-jitter backoff on the
 * failures in a row; a failure never shortens a pause already decided.
 */
export function afterFailure(previous: QueueBackoff, retryAfterMs: number | undefined, now: number, settings: FailureSettings): QueueBackoff {
  const state = rebase(previous, now);
  const failures = state.failures + 1;
  // A custom transport may hand anything here: only a number >= 0 is a server's pause.
  const pause = retryAfterMs! >= 0 ? Math.min(retryAfterMs!, settings.maxRetryAfterMs) : backoffDelay(failures - 1, settings.retry, settings.random);
  return { failures, until: Math.max(state.until, now + pause), since: now };
}

/**
 * The state on a clock that reads `now`. Pure. Pauses are wall-clock times: if the clock went
 * back below the moment a pause was decided, the pause keeps its length from now instead of
 * lasting as long as the jump (a day back meant a day without delivery).
 */
export function rebase(state: QueueBackoff, now: number): QueueBackoff {
  return state.since! > now ? { failures: state.failures, until: now + state.until - state.since!, since: now } : state;
}

/**
 * How many requests may be under way now. Pure. Healthy: `concurrency`. Failing: none before
 * `until`, then one (the probe); its success restores `concurrency`.
 */
export function allowedInFlight(state: QueueBackoff, now: number, concurrency: number): number {
  if (state.until > now) return 0;
  return state.failures > 0 ? 1 : concurrency;
}
