import type { SendOutcome } from './transport/transport.js';

/** What the tracker does with a batch after a delivery attempt (see {@link decideBatch}). */
export type BatchDecision =
  /** Acknowledged: account each event from the reply (`ruled` ids dropped, the rest sent). */
  | { action: 'ack' }
  /** Failed for now: back to the queue; the whole queue backs off. */
  | { action: 'retry' }
  /** Retry limit reached: drop as `expired`. */
  | { action: 'expire' }
  /** Refused as a whole: cut it in halves, each sent on its own, until the offender is alone. */
  | { action: 'split' }
  /** Refused, and the batch is a single event (or the refusal is not about content): drop it. */
  | { action: 'drop'; reason: 'too_large' | 'rejected' };

/**
 * What an outcome means for a batch of `size` events on its `attempt`-th try. Pure. A 413, and a
 * 400 (one malformed event), split a multi-event batch so only the offending event is dropped;
 * other refusals (401, 403, 404...) are about the request, not an event, and drop the batch.
 */
export function decideBatch(outcome: SendOutcome, size: number, attempt: number, retryLimit: number): BatchDecision {
  switch (outcome.kind) {
    case 'ok':
      return { action: 'ack' };
    case 'retry':
      return attempt > retryLimit ? { action: 'expire' } : { action: 'retry' };
    case 'split':
      return size > 1 ? { action: 'split' } : { action: 'drop', reason: 'too_large' };
    case 'drop':
      return size > 1 && outcome.status === 400 ? { action: 'split' } : { action: 'drop', reason: 'rejected' };
    default:
      // A custom transport's unknown outcome is a failure, never an acknowledgement.
      return attempt > retryLimit ? { action: 'expire' } : { action: 'retry' };
  }
}

/**
 * Which events of an acknowledged batch the collector dropped under its rules: the ids its reply
 * lists in `ruled` (wire.ts `BatchReply`). Pure. A reply without a valid `ruled` means all stored;
 * ids not in the batch are ignored.
 */
export function ruledIds(reply: unknown, batchIds: readonly string[]): Set<string> {
  const ruled = new Set<string>();
  const listed = (reply as { ruled?: unknown } | null | undefined)?.ruled;
  if (!Array.isArray(listed) || !listed.length) return ruled;
  const inBatch = new Set(batchIds);
  for (const id of listed) if (typeof id === 'string' && inBatch.has(id)) ruled.add(id);
  return ruled;
}
