import type { WireEvent } from './wire.js';

/**
 * Why an event left the outbox without being acknowledged. Every drop is counted under one of
 * these in `stats().dropped` and reported through `onError`.
 * - `overflow`: evicted (oldest first) because the queue hit `maxQueueEvents` / `maxQueueBytes`.
 * - `invalid`: not a valid wire format v1 event (cycle, function, symbol, bad name or id, fields
 *   over the wire limits, properties that serialize to a non-object or nest too deep) or tracked
 *   after close.
 * - `too_large`: bigger than `maxEventBytes`, or refused alone with HTTP 413.
 * - `rejected`: the collector answered a non-retryable 4xx (a 400 for a batch is split first,
 *   until the offending event is alone).
 * - `ruled`: matched a drop rule the collector sent, or listed in a reply's `ruled` ids.
 * - `expired`: the retry limit (`retry.limit`) ran out.
 * - `corrupt`: a stored record could not be used (unparseable, or not a valid wire format v1
 *   event); it was deleted from storage so it cannot block the rest.
 */
export type DropReason = 'overflow' | 'invalid' | 'too_large' | 'rejected' | 'ruled' | 'expired' | 'corrupt';

/** Every code an {@link OutboxError} can carry: a drop reason, or a problem that lost nothing. */
export type OutboxErrorCode =
  | DropReason
  /** A request failed and will be retried; nothing was lost. */
  | 'retry'
  /** Storage failed; the tracker keeps events in memory. */
  | 'storage'
  /** The unload path could not send everything; the rest stays queued for the next page. */
  | 'unload';

/** Details attached to an {@link OutboxError}. */
export interface OutboxErrorDetails {
  /** The events concerned (their wire form), when the error is about events. */
  events?: readonly OutboxEventRecord[];
  /** The HTTP status, when the collector answered. */
  status?: number;
  /** What went wrong underneath (a network error, a storage exception...). */
  cause?: unknown;
}

/** An event as it travels on the wire: wire format v1's {@link WireEvent}, one definition. */
export type OutboxEventRecord = WireEvent;

/**
 * The one error type outbox reports. It reaches you through `onError`; `track()` never throws it.
 * Messages start with `[outbox]` and name the failing value.
 */
export class OutboxError extends Error {
  override readonly name = 'OutboxError';
  // Assigned in the constructor; `declare` emits no field initializers for them (same own
  // properties, in the same order, fewer bytes in the script tag).
  declare readonly code: OutboxErrorCode;
  declare readonly status: number | undefined;
  declare readonly events: readonly OutboxEventRecord[];

  constructor(code: OutboxErrorCode, message: string, details: OutboxErrorDetails = {}) {
    super(`[outbox] ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.events = details.events ?? [];
  }
}

/**
 * True for an {@link OutboxError}, also one from another realm or another copy of the library
 * (an iframe, a second bundle), where `instanceof` fails.
 */
export function isOutboxError(value: unknown): value is OutboxError {
  return value instanceof OutboxError || (value instanceof Error && value.name === 'OutboxError');
}
