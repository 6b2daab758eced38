import { parseRetryAfter } from '../backoff.js';
import type { SendOutcome } from './transport.js';

/**
 * Maps an HTTP status to what the tracker does next. Pure. 2xx acknowledges; 408, 429 and 5xx are
 * transient (Amberflo, Ramen and Segment agree); 413 splits the batch (as PostHog-lite and Mixpanel
 * do, rather than dropping it as a generic 4xx); any other status is a refusal.
 */
export function classifyStatus(
  status: number,
  retryAfter: string | null | undefined,
  now: number,
  maxDelayMs: number,
  error: unknown,
): SendOutcome {
  if (status >= 200 && status < 300) return { kind: 'ok', status };
  if (status === 408 || status === 429 || status >= 500) {
    return { kind: 'retry', status, retryAfterMs: parseRetryAfter(retryAfter, now, maxDelayMs), error };
  }
  if (status === 413) return { kind: 'split', status, error };
  return { kind: 'drop', status, error };
}
