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
 * Which events of an acknowledged batch the collector dropped under its rules: the ids its reply
 * lists in `ruled` (wire.ts `BatchReply`). Pure. A reply without a valid `ruled` means all stored;
 * ids not in the batch are ignored.
 */
export function ruledIds(reply: unknown, batchIds: readonly string[]): Set<string> {
  const listed = (reply as { ruled?: unknown } | undefined)?.ruled;
  return new Set(Array.isArray(listed) ? batchIds.filter((id) => listed.includes(id)) : []);
}

/**
 * A transport's outcome as plain data, each field read once: a custom transport may resolve with
 * anything (null, a Proxy whose traps throw, a NaN status). Pure; never throws: what cannot be
 * read is a failure to retry, never an acknowledgement.
 */
export function normalizeOutcome(value: unknown): SendOutcome {
  try {
    const { kind, status, retryAfterMs, error, reply, bytes } = value as Record<string, unknown> & { reply?: Record<string, unknown> };
    const known = kind === 'ok' || kind === 'retry' || ((kind === 'split' || kind === 'drop') && finite(status));
    return {
      kind: known ? kind : 'retry',
      status: finite(status),
      retryAfterMs: finite(retryAfterMs),
      error: known ? error : (error ?? new TypeError(`[outbox] unknown outcome ${String(kind)}`)),
      reply: reply && typeof reply === 'object' ? { ruled: reply.ruled, rules: reply.rules } : undefined,
      bytes: finite(bytes),
    } as SendOutcome;
  } catch (error) {
    return { kind: 'retry', error };
  }
}

const finite = (value: unknown): number | undefined => (typeof value === 'number' && value - value === 0 ? value : undefined);
