import { parseRetryAfter } from '../backoff.js';
import type { SendOutcome } from './transport.js';

/**
 * Maps an HTTP status to what the tracker does next. Pure. 2xx acknowledges; 408, 429 and 5xx are
 * transient (Amberflo, Ramen and Segment agree); a 3xx is a failure to retry (the endpoint
 * moved: the events were not stored); 413 splits the batch (as PostHog-lite and Mixpanel
 * do, rather than dropping it as a generic 4xx); any other status is a refusal.
 */
export function classifyStatus(
  status: number,
  retryAfter: string | null | undefined,
  now: number,
  maxRetryAfterMs: number,
  error: unknown,
): SendOutcome {
  if (status >= 200 && status < 300) return { kind: 'ok', status };
  // A redirect is never an acknowledgement: retried, since the configuration may be fixed.
  if (status >= 300 && status < 400) return { kind: 'retry', status, error };
  if (status === 408 || status === 429 || status >= 500) {
    return { kind: 'retry', status, retryAfterMs: parseRetryAfter(retryAfter, now, maxRetryAfterMs), error };
  }
  if (status === 413) return { kind: 'split', status, error };
  return { kind: 'drop', status, error };
}
