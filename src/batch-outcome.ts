import type { BackoffOptions } from './backoff.js';
import { afterFailure, healthy, type QueueBackoff } from './queue-backoff.js';
import type { SendOutcome } from './transport/transport.js';

/**
 * What the tracker does with a batch after a delivery attempt (see {@link decideBatch}):
 * `ack` (account each event from the reply), `retry` (back to the queue, which backs off),
 * `expire` (retry limit reached: drop as `expired`), `split` (refused as a whole: halves go on
 * their own until the offender is alone), or drop as `too_large` or `rejected`.
 */
export type BatchDecision = 'ack' | 'retry' | 'expire' | 'split' | 'too_large' | 'rejected';

/**
 * What an outcome means for a batch of `size` events on its `attempt`-th try. Pure. A 413, and a
 * 400 (one malformed event), split a multi-event batch so only the offending event is dropped;
 * other refusals (401, 403, 404...) are about the request, not an event, and drop the batch.
 */
export function decideBatch(outcome: SendOutcome, size: number, attempt: number, retryLimit: number): BatchDecision {
  const { kind } = outcome;
  if (kind === 'ok') return 'ack';
  if (kind === 'split' || (kind === 'drop' && outcome.status === 400)) return size > 1 ? 'split' : kind === 'split' ? 'too_large' : 'rejected';
  if (kind === 'drop') return 'rejected';
  return attempt > retryLimit ? 'expire' : 'retry';
}

/**
 * Which events of an acknowledged batch the collector dropped under its rules: those whose ids its
 * reply lists in `ruled` (wire.ts `BatchReply`), in batch order. Pure. A reply without a valid
 * `ruled` means all stored; ids not in the batch are ignored.
 */
export function ruledEvents<E extends { id: string }>(reply: unknown, events: readonly E[]): E[] {
  const listed = (reply as { ruled?: unknown } | undefined)?.ruled;
  return Array.isArray(listed) ? events.filter((e) => listed.includes(e.id)) : [];
}

/** The same for bare ids (a receipt's `ruled`, wire.ts `ReceiptReply`, against a lease's ids). */
export const ruledIds = (reply: unknown, ids: readonly string[]): string[] => ruledEvents(reply, ids.map((id) => ({ id }))).map((e) => e.id);

/**
 * What a batch's outcome means (see {@link decideSettle}): the decision; the queue's state from
 * now (paused after a failure to retry, healthy after any answer); whether the request's lease
 * stays in storage (it may have arrived: the next page asks its receipt).
 */
export type Settlement = [decision: BatchDecision, backoff: QueueBackoff, keepLease: boolean];

/** The retry policy {@link decideSettle} applies. */
export interface SettleSettings {
  retry: BackoffOptions & { limit: number };
  random: () => number;
  maxRetryAfterMs: number;
}

/**
 * What an outcome means for a batch of `size` events on its `attempt`-th try and for the queue,
 * whose state was `backoff`, at `now`. Pure: randomness comes from `settings.random`.
 */
export function decideSettle(outcome: SendOutcome, size: number, attempt: number, backoff: QueueBackoff, now: number, settings: SettleSettings): Settlement {
  const failed = outcome.kind === 'retry';
  return [
    decideBatch(outcome, size, attempt, settings.retry.limit),
    // Any answer but a failure to retry means the collector is up: a refusal is still an answer.
    failed ? afterFailure(backoff, outcome.retryAfterMs, now, settings) : healthy,
    // A network error or a timeout does not say the request never arrived: its lease stays (until
    // the retry renews or ends it), so a next page asks the collector's receipt, not re-sends.
    failed && outcome.status === undefined,
  ];
}
