/** Backoff settings (see `RetryOptions`). */
export interface BackoffOptions {
  baseMs: number;
  maxDelayMs: number;
}

/**
 * Full-jitter exponential backoff: a uniform delay in [0, min(maxDelayMs, baseMs * 2^attempt)).
 * Full jitter spreads a fleet of clients that failed together (AWS architecture blog, "Exponential
 * Backoff And Jitter"); ironSource atom and Amberflo use the same. Pure: randomness is injected.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseMs * 2 ** Math.min(attempt, 52));
  return Math.floor(random() * ceiling);
}

/**
 * Milliseconds to wait from a `Retry-After` header: delta-seconds or an HTTP date (RFC 9110
 * §10.2.3), capped at `maxMs` (the tracker's `maxRetryAfterMs`). Undefined when absent or unreadable. outbox retries durably
 * across requests, reloads and tabs, so it reads the header itself and pauses the whole queue.
 */
export function parseRetryAfter(value: string | null | undefined, now: number, maxMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(0, ms), maxMs);
}
