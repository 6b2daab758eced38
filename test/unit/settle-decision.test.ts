// What an outcome means for a batch and for the queue (issue 11): the settle decision as a value,
// table-driven, with the randomness passed in: no timers, no network.
import { describe, expect, it } from 'vitest';
import { decideSettle } from '../../src/batch-outcome.js';
import type { SendOutcome } from '../../src/index.js';
import { healthy } from '../../src/queue-backoff.js';

const error = new Error('x');
const settings = { retry: { limit: 3, baseMs: 1000, maxDelayMs: 8000 }, random: () => 0.5, maxRetryAfterMs: 60_000 };
const failing = { failures: 2, until: 5000, since: 4000 };

describe('decideSettle', () => {
  it.each<{ name: string; outcome: SendOutcome; size?: number; attempt?: number; before?: typeof failing; decision: string; backoff: object; keepLease: boolean }>([
    { name: '2xx: acknowledged, the queue healthy again, the lease ended', outcome: { kind: 'ok', status: 200 }, before: failing, decision: 'ack', backoff: healthy, keepLease: false },
    { name: 'network error: retry after a jittered pause; the lease stays (it may have arrived)', outcome: { kind: 'retry', error }, decision: 'retry', backoff: { failures: 1, until: 10_500, since: 10_000 }, keepLease: true },
    { name: '503: retry; an answer ends the lease', outcome: { kind: 'retry', status: 503, error }, decision: 'retry', backoff: { failures: 1, until: 10_500, since: 10_000 }, keepLease: false },
    { name: '429 with Retry-After: the server pause, capped', outcome: { kind: 'retry', status: 429, retryAfterMs: 120_000, error }, decision: 'retry', backoff: { failures: 1, until: 70_000, since: 10_000 }, keepLease: false },
    { name: 'a failure counts on the failures before it', outcome: { kind: 'retry', status: 500, error }, before: failing, decision: 'retry', backoff: { failures: 3, until: 12_000, since: 10_000 }, keepLease: false },
    { name: 'past the retry limit: expired', outcome: { kind: 'retry', status: 500, error }, attempt: 4, decision: 'expire', backoff: { failures: 1, until: 10_500, since: 10_000 }, keepLease: false },
    { name: '413 of many: split, the collector is up', outcome: { kind: 'split', status: 413, error }, before: failing, decision: 'split', backoff: healthy, keepLease: false },
    { name: '413 of one: dropped too_large', outcome: { kind: 'split', status: 413, error }, size: 1, decision: 'too_large', backoff: healthy, keepLease: false },
    { name: '403: dropped rejected, the collector is up', outcome: { kind: 'drop', status: 403, error }, decision: 'rejected', backoff: healthy, keepLease: false },
  ])('$name', ({ outcome, size, attempt, before, decision, backoff, keepLease }) => {
    expect(decideSettle(outcome, size ?? 10, attempt ?? 1, before ?? healthy, 10_000, settings)).toEqual([decision, backoff, keepLease]);
  });

  it('draws randomness only for a failure to retry', () => {
    let draws = 0;
    const counted = { ...settings, random: () => (draws++, 0.5) };
    decideSettle({ kind: 'ok', status: 200 }, 1, 1, healthy, 0, counted);
    decideSettle({ kind: 'drop', status: 400, error }, 1, 1, healthy, 0, counted);
    expect(draws).toBe(0);
    decideSettle({ kind: 'retry', error }, 1, 1, healthy, 0, counted);
    expect(draws).toBe(1);
  });
});
