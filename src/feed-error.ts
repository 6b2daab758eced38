/** What went wrong reading the feed. */
export type FeedErrorCode = 'http' | 'network' | 'bad_response' | 'bad_cursor';

/** The error of a failed feed read: a non-2xx reply (with its status and body), a network failure, a malformed reply or bad cursors. */
export class FeedError extends Error {
  override readonly name = 'FeedError';
  readonly code: FeedErrorCode;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The reply's body text (its first 8 KiB), when the server answered with an error. */
  readonly body: string | undefined;

  constructor(code: FeedErrorCode, message: string, details: { status?: number; body?: string; cause?: unknown } = {}) {
    super(`[outbox] ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.body = details.body;
  }
}

/** True for a {@link FeedError}, also one from another realm or copy of the library. */
export function isFeedError(value: unknown): value is FeedError {
  return value instanceof FeedError || (value instanceof Error && value.name === 'FeedError');
}
